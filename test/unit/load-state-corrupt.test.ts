// Corrupt and truncated --state files: the engine used to trust the header's block count
// and read past the buffer. Every bad state must be refused with a message naming the
// state (ERR_LOAD_SPEC), never crash node. Also run under ASan and UBSan by
// scripts/sanitize-addon.mjs (test/unit/addon-sanitize.test.ts); the CLI's side of the
// same files is load-state-cli.test.ts.
import t from 'tap';
import { join } from 'node:path';
import { loadBinding } from '../../src/load/native.js';
import { runLoad } from '../../src/load/run.js';
import { toNativeSpec, parseJobSpec } from '../../src/load/spec.js';
import { checkStateRecords, decodeStateHeader } from '../../src/load/verify.js';
import { UsageError } from '../../src/util/errors.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-state-');
if (dir) {
  const f = join(dir, 't.dat');
  const job = { filename: f, bs: 4096, size: '1m', iodepth: 8, seed: 7, verify: true } as const;
  const NBLOCKS = 256;

  /** A copy of `good` with `edit` applied (DataView on the copy). */
  const mutate = (good: Buffer, edit: (v: DataView, b: Buffer) => Buffer | void): Buffer => {
    const b = Buffer.from(good);
    return edit(new DataView(b.buffer, b.byteOffset, b.byteLength), b) ?? b;
  };
  const CASES: [string, (v: DataView, b: Buffer) => Buffer | void][] = [
    ['empty file', (_v, b) => b.subarray(0, 0)],
    ['10 bytes', (_v, b) => b.subarray(0, 10)],
    ['the header only', (_v, b) => b.subarray(0, 64)],
    ['cut in the middle of the records', (_v, b) => b.subarray(0, 64 + 100 * 8 + 3)],
    ['one record short', (_v, b) => b.subarray(0, b.length - 8)],
    ['padded by a record', (_v, b) => Buffer.concat([b, Buffer.alloc(8)])],
    ['wrong magic', (v) => v.setUint32(0, 0x12345678, true)],
    ['wrong version', (v) => v.setUint32(4, 2, true)],
    ['block size 0', (v) => v.setUint32(8, 0, true)],
    ['block size not a multiple of 512', (v) => v.setUint32(8, 4000, true)],
    // the original bug: size says 256 blocks, the header and the buffer say 16
    ['block count below size/bs, buffer to match', (v, b) => (v.setBigUint64(40, 16n, true), b.subarray(0, 64 + 16 * 8))],
    ['block count above size/bs', (v) => v.setBigUint64(40, BigInt(NBLOCKS + 1), true)],
    // 2^61 * 8 wraps to 0 in 64 bits: a 64-byte buffer "matched" the old length check
    ['block count that overflows the length check', (v, b) => (v.setBigUint64(40, 1n << 61n, true), b.subarray(0, 64))],
    ['size 0', (v) => v.setBigUint64(32, 0n, true)],
    ['size beyond 2^53', (v) => v.setBigUint64(32, 1n << 60n, true)],
    ['size not a multiple of bs', (v) => v.setBigUint64(32, BigInt(NBLOCKS * 4096 + 512), true)],
    ['a record acked above issued', (v) => (v.setUint32(64 + 5 * 8, 9, true), v.setUint32(64 + 5 * 8 + 4, 3, true))],
    ['a record at UINT32_MAX', (v) => v.setUint32(64 + 5 * 8 + 4, 0xffffffff, true)],
  ];

  let good: Buffer;
  t.before(async () => {
    const r = await runLoad({ ...job, rw: 'randwrite', ios: 600 });
    good = r.state!;
  });

  t.test('the good state passes both checks', async (t) => {
    t.equal(good.length, 64 + NBLOCKS * 8);
    t.same(decodeStateHeader(good), { bs: 4096, seed: 7, offset: 0, size: NBLOCKS * 4096, nblocks: NBLOCKS });
    t.doesNotThrow(() => checkStateRecords(good));
    const r = await runLoad({ ...job, rw: 'read', state: good });
    t.equal(r.verify.errors, 0, 'and the engine takes it');
  });

  t.test('the addon refuses every corrupt state (ERR_LOAD_SPEC, "state: ...")', async (t) => {
    const b = loadBinding();
    for (const [name, edit] of CASES) {
      const state = mutate(good, edit);
      const spec = toNativeSpec(parseJobSpec({ ...job, rw: 'read' }));
      let err: (Error & { code?: string }) | undefined;
      try {
        const h = b.uringStartJob({ ...spec, state });
        await h.promise;
      } catch (e) {
        err = e as Error & { code?: string };
      }
      t.equal(err?.code, 'ERR_LOAD_SPEC', `${name}: refused`);
      t.match(err?.message ?? '', /^state: /, `${name}: ${err?.message}`);
    }
  });

  t.test('the TypeScript checks refuse them too, naming the state', async (t) => {
    for (const [name, edit] of CASES) {
      const state = mutate(good, edit);
      t.throws(() => checkStateRecords(state), UsageError, name);
    }
  });

  t.test('random damage to the header: refused or harmless, never a crash', async (t) => {
    const b = loadBinding();
    const spec = toNativeSpec(parseJobSpec({ ...job, rw: 'read' }));
    let refused = 0;
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let i = 0; i < 300; i++) {
      const state = Buffer.from(good);
      for (let k = 0; k <= rnd(4); k++) state[rnd(64)] = rnd(256);
      try {
        await b.uringStartJob({ ...spec, ios: 1, state }).promise;
      } catch (e) {
        const err = e as Error & { code?: string };
        if (err.code !== 'ERR_LOAD_SPEC' || !/^state: /.test(err.message)) throw e;
        refused++;
      }
    }
    t.ok(refused > 250, `${refused} of 300 damaged headers refused, the rest held a valid header`);
  });
}
