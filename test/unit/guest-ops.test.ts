import t from 'tap';
import { mkdtempSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinOps } from '../../src/guest/ops.js';
import { int, oneOf, optInt, optStringMap, str, strings } from '../../src/guest/args.js';

const op = (name: string, args: Record<string, unknown>, deadlineMs = 5000): Promise<unknown> => builtinOps[name]!(args, deadlineMs);

t.test('argument checks: EINVAL naming the argument', async (t) => {
  t.equal(str({ p: 'x' }, 'p'), 'x');
  t.equal(str({ p: '' }, 'p', { empty: true }), '');
  t.throws(() => str({ p: '' }, 'p'), { code: 'EINVAL', message: 'argument p: expected a non-empty string, got a string' });
  t.throws(() => str({}, 'p'), { message: 'argument p: expected a non-empty string, got nothing' });
  t.same(strings({ a: ['x'] }, 'a'), ['x']);
  t.throws(() => strings({ a: [] }, 'a'), { code: 'EINVAL' });
  t.throws(() => strings({ a: ['x', 1] }, 'a'), { code: 'EINVAL' });
  t.equal(optInt({}, 'n', 5, 10), undefined);
  t.equal(int({ n: 5 }, 'n', 5, 10), 5);
  t.throws(() => int({ n: 4 }, 'n', 5, 10), { message: 'argument n: expected an integer from 5 to 10, got a number' });
  t.throws(() => int({ n: 5.5 }, 'n'), { code: 'EINVAL' });
  t.equal(oneOf({ t: 'b' }, 't', ['a', 'b'] as const), 'b');
  t.throws(() => oneOf({ t: 'c' }, 't', ['a', 'b'] as const), { message: 'argument t: expected one of a|b, got a string' });
  t.same(optStringMap({ e: { A: '1' } }, 'e'), { A: '1' });
  t.throws(() => optStringMap({ e: { A: 1 } }, 'e'), { code: 'EINVAL' });
  t.throws(() => optStringMap({ e: [] }, 'e'), { message: 'argument e: expected an object of strings, got an array' });
});

t.test('file operations', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-ops-'));
  const f = join(dir, 'a');
  t.equal(await op('writeFile', { path: f, data: 'hello\n' }), null);
  t.equal(await op('readFile', { path: f }), 'hello\n');
  t.equal(await op('writeFile', { path: f, data: '' }), null, 'empty data is fine');
  t.equal(await op('exists', { path: f }), true);
  t.equal(await op('exists', { path: join(dir, 'nope') }), false);
  t.equal(await op('mkdir', { path: join(dir, 'x', 'y'), recursive: true }), null);
  t.equal(await op('symlink', { target: 'a', path: join(dir, 'l') }), null);
  t.same(((await op('readdir', { path: dir })) as string[]).sort(), ['a', 'l', 'x']);
  t.equal(await op('realpath', { path: join(dir, 'l') }), realpathSync(f), 'realpath follows the link, as readlink -f');
  await t.rejects(op('realpath', { path: join(dir, 'nope') }), { code: 'ENOENT' });
  await t.rejects(op('realpath', { path: '' }), { code: 'EINVAL' });
  t.equal(await op('unlink', { path: join(dir, 'l') }), null);
  t.equal(await op('rmdir', { path: join(dir, 'x', 'y') }), null);
  await t.rejects(op('readFile', { path: '' }), { code: 'EINVAL' });
  await t.rejects(op('writeFile', { path: f }), { code: 'EINVAL', message: /argument data/ });
  await t.rejects(op('mkdir', { path: join(dir, 'z'), recursive: 'yes' }), { code: 'EINVAL' });
  await t.rejects(op('readFile', { path: join(dir, 'nope') }), { code: 'ENOENT' });
});

t.test('waitFor and exec', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-ops-'));
  const f = join(dir, 'state');
  setTimeout(() => void op('writeFile', { path: f, data: 'live\n' }), 50);
  const w = (await op('waitFor', { path: f, test: 'equals', value: 'live', intervalMs: 10 })) as { value: string };
  t.equal(w.value, 'live');
  await t.rejects(op('waitFor', { path: f, test: 'absent', intervalMs: 10 }, 100), { code: 'ETIMEDOUT', message: /absent; last seen ""/ });
  await t.rejects(op('waitFor', { path: f, test: 'sideways' }), { code: 'EINVAL' });
  await t.rejects(op('waitFor', { path: f, test: 'exists', intervalMs: 0 }), { code: 'EINVAL' });
  const r = (await op('exec', { argv: ['sh', '-c', 'cat; echo "$X" >&2; exit 3'], input: 'in', env: { X: 'x' } })) as {
    exitCode: number;
    stdout: string;
    stderr: string;
  };
  t.same([r.exitCode, r.stdout, r.stderr], [3, 'in', 'x\n']);
  await t.rejects(op('exec', { argv: [] }), { code: 'EINVAL' });
  await t.rejects(op('exec', { argv: ['/nonexistent/tool'] }), { code: 'ENOENT' });
});

t.test('waitFor block: a block device, not a file of that name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-ops-'));
  const f = join(dir, 'nvme0n1');
  // What a loader started too early would leave: a plain file where the node belongs.
  await op('writeFile', { path: f, data: '' });
  await t.rejects(op('waitFor', { path: f, test: 'block', intervalMs: 10 }, 60), { code: 'ETIMEDOUT', message: /block; last seen "not a block device"/ });
  await t.rejects(op('waitFor', { path: join(dir, 'nope'), test: 'block', intervalMs: 10 }, 60), { message: /last seen absent/ });
  const dev = readdirSync('/dev')
    .map((n) => `/dev/${n}`)
    .find((p) => {
      try {
        return statSync(p).isBlockDevice();
      } catch {
        return false;
      }
    });
  if (!dev) {
    t.comment('no block device in /dev here: the positive case is not checked');
    return;
  }
  const w = (await op('waitFor', { path: dev, test: 'block', intervalMs: 10 }, 1000)) as { value: string };
  t.equal(w.value, 'a block device', dev);
});
