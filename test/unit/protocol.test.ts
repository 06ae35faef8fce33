import t from 'tap';
import { z } from 'zod';
import { LineDecoder, encode, parseKmsg, parseRequest, toWireError } from '../../src/guest/wire.js';

/** What a request is, as a zod schema: the agent's zod-free parseRequest must agree with it. */
const Request = z.object({
  id: z.number().int().nonnegative(),
  op: z.string().min(1),
  args: z.record(z.string(), z.unknown()).default({}),
  /** How long the agent may take, in ms; it answers ETIMEDOUT after that. */
  deadlineMs: z.number().int().positive().max(3_600_000),
});

t.test('line decoder keeps partial lines across chunks', async (t) => {
  const d = new LineDecoder();
  t.same(d.push('{"a":1}\n{"b"'), ['{"a":1}']);
  t.same(d.push(':2}\n\n{"c":3}'), ['{"b":2}']);
  t.same(d.push(Buffer.from('\n')), ['{"c":3}']);
});

t.test('a multi-byte character split between chunks survives', async (t) => {
  const d = new LineDecoder();
  const bytes = Buffer.from('"é"\n');
  t.same(d.push(bytes.subarray(0, 2).toString('latin1')), []);
  // strings are already decoded by the socket's caller in practice; here we check lines stay whole
  t.equal(d.push(bytes.subarray(2).toString('latin1')).length, 1);
});

t.test('line decoder refuses runaway lines', async (t) => {
  const d = new LineDecoder(10);
  t.throws(() => d.push('x'.repeat(11)), /longer than 10/);
});

t.test('requests need an id, an op and a deadline', async (t) => {
  t.ok(Request.safeParse({ id: 1, op: 'exec', args: { argv: ['true'] }, deadlineMs: 1000 }).success);
  t.notOk(Request.safeParse({ id: 1, op: 'exec', args: {} }).success, 'no deadline');
  t.notOk(Request.safeParse({ id: -1, op: 'x', deadlineMs: 1 }).success, 'negative id');
  t.equal(encode({ id: 1 }), '{"id":1}\n');
});

t.test("the agent's zod-free request check agrees with the Request schema", async (t) => {
  const cases: unknown[] = [
    { id: 1, op: 'exec', args: { argv: ['true'] }, deadlineMs: 1000 },
    { id: 0, op: 'clock', deadlineMs: 1 },
    { id: 1, op: 'exec', args: {} },
    { id: -1, op: 'x', deadlineMs: 1 },
    { id: 1.5, op: 'x', deadlineMs: 1 },
    { id: 1, op: '', deadlineMs: 1 },
    { id: 1, op: 5, deadlineMs: 1 },
    { id: 1, op: 'x', args: [], deadlineMs: 1 },
    { id: 1, op: 'x', args: null, deadlineMs: 1 },
    { id: 1, op: 'x', args: 'a', deadlineMs: 1 },
    { id: 1, op: 'x', deadlineMs: 0 },
    { id: 1, op: 'x', deadlineMs: 3_600_000 },
    { id: 1, op: 'x', deadlineMs: 3_600_001 },
    { id: 1, op: 'x', deadlineMs: 2.5 },
    { id: '1', op: 'x', deadlineMs: 1 },
    { id: 2 ** 60, op: 'x', deadlineMs: 1 },
    { id: 1, op: 'x', deadlineMs: 1, extra: true },
    null,
    [],
    'x',
  ];
  for (const c of cases) {
    const want = Request.safeParse(c);
    let got: unknown;
    try {
      got = parseRequest(c);
    } catch {
      got = undefined;
    }
    t.equal(got !== undefined, want.success, JSON.stringify(c));
    if (want.success) t.same(got, want.data);
  }
});

t.test('errno, code and path survive the wire', async (t) => {
  const e = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', errno: -2, path: '/x', syscall: 'open' });
  t.same(toWireError(e), { message: 'ENOENT: no such file', code: 'ENOENT', errno: -2, path: '/x', syscall: 'open' });
  t.same(toWireError('plain'), { message: 'plain' });
});

t.test('kmsg records: level, sequence, time and escaped text', async (t) => {
  t.same(parseKmsg('3,1234,5678901,-;nvme nvme0: Removing ctrl: NQN "testnqn"\n'), {
    level: 3,
    seq: 1234,
    usec: 5678901,
    text: 'nvme nvme0: Removing ctrl: NQN "testnqn"',
  });
  t.equal(parseKmsg('6,1,2,-;a\\x09b\n SUBSYSTEM=net\n')!.text, 'a\tb', 'escapes decoded, continuation lines dropped');
  t.equal(parseKmsg('garbage'), undefined);
});
