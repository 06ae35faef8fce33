// The final read-back pass on a real file: it reads exactly the blocks writes touched
// (adjacent ones coalesced into reads of up to 128 KiB, the plan of
// src/native/verify_plan.h, which test/unit/load-read-plan.test.ts checks on its own),
// as many reads in flight as verifyIodepth says, and still checks every recorded block
// on its own: a bad block among good ones, a block between unrecorded ones, the first
// and the last block, and a block whose write outcome is unknown are each found, and an
// unrecorded block is not read at all.
import t from 'tap';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, verifyTarget } from '../../src/load/run.js';
import { loaderLimits } from '../../src/load/limits.js';
import { blockRecord, decodeStateHeader } from '../../src/load/verify.js';
import { stateCounts } from '../helpers/engine-output.js';
import { engineTestHooks, uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-final-pass-');
if (dir) {
  const BS = 4096;
  /** Blocks one read of the final pass may span (128 KiB). */
  const MAX_READ = (128 * 1024) / BS;

  const scribble = (f: string, block: number): void => {
    const fd = openSync(f, 'r+');
    writeSync(fd, Buffer.alloc(100, 0xa5), 0, 100, block * BS + 200);
    closeSync(fd);
  };
  /** The state's records as the planner takes them. */
  const records = (state: Uint8Array): Uint32Array => {
    const { nblocks } = decodeStateHeader(state);
    const out = new Uint32Array(2 * nblocks);
    for (let i = 0; i < nblocks; i++) {
      const r = blockRecord(state, i);
      out[2 * i] = r.acked;
      out[2 * i + 1] = r.issued;
    }
    return out;
  };
  const planned = (state: Uint8Array, maxGap: number): { reads: number; blocks: number } => {
    const p = engineTestHooks().uringPlanReads(records(state), MAX_READ, maxGap);
    let blocks = 0;
    for (let i = 1; i < p.length; i += 2) blocks += p[i]!;
    return { reads: p.length / 2, blocks };
  };
  const recordedBlocks = (state: Uint8Array): number[] => {
    const { nblocks } = decodeStateHeader(state);
    return Array.from({ length: nblocks }, (_, i) => i).filter((i) => blockRecord(state, i).acked > 0 || blockRecord(state, i).issued > 0);
  };

  t.test('every block written: one read per 128 KiB, every block checked', async (t) => {
    const f = join(dir, 'full.dat');
    const r = await runLoad({ filename: f, bs: BS, size: '2m', iodepth: 8, seed: 7, verify: true, rw: 'write' });
    const fp = r.verify.finalPass;
    t.equal(fp.blocks, 512);
    t.equal(fp.checked, 512);
    t.equal(fp.ok, 512);
    t.equal(fp.reads, 512 / MAX_READ, `${fp.reads} reads of up to ${MAX_READ} blocks`);
    t.equal(fp.bytes, 512 * BS, 'the span, once');
  });

  t.test('sparse writes: exactly the written blocks are read, each checked', async (t) => {
    const f = join(dir, 'sparse.dat');
    const r = await runLoad({ filename: f, bs: BS, size: '4m', iodepth: 4, seed: 9, verify: true, rw: 'randwrite', ios: 300 });
    const { written, unacked } = stateCounts(r.state!);
    t.equal(unacked, 0, 'every write was acknowledged');
    const fp = r.verify.finalPass;
    t.equal(fp.blocks, written);
    t.equal(fp.checked, written);
    t.equal(fp.ok, written);
    t.equal(fp.bytes, written * BS, 'no byte read that no write touched');
    t.equal(fp.reads, planned(r.state!, 0).reads, 'the reads the plan makes');
    t.ok(fp.reads! < written, `${fp.reads} reads for ${written} blocks: adjacent ones coalesced`);

    // the same record read again with gaps allowed: the plan's reads and bytes, the same checks
    const v = await verifyTarget({ filename: f, state: r.state!, verifyMaxGap: 3 });
    const p = planned(r.state!, 3);
    t.equal(v.verify.finalPass.reads, p.reads);
    t.equal(v.verify.finalPass.bytes, p.blocks * BS);
    t.ok(p.blocks > written, 'gaps read more blocks');
    t.equal(v.verify.finalPass.checked, written, 'and check only the recorded ones');
    t.equal(v.verify.errors, 0);
  });

  t.test('a bad block anywhere in a read is that block, and only it', async (t) => {
    const f = join(dir, 'bad.dat');
    const j = await runLoad({ filename: f, bs: BS, size: '1m', iodepth: 8, seed: 3, verify: true, rw: 'randwrite', ios: 120 });
    const state = j.state!;
    const info = decodeStateHeader(state);
    const rec = (i: number): boolean => blockRecord(state, i).acked > 0;
    const recorded = recordedBlocks(state);
    // the first and the last recorded block, one with unrecorded neighbours, one inside a run of recorded ones
    const lonely = recorded.find((i) => i > 0 && !rec(i - 1) && !rec(i + 1));
    const inner = recorded.find((i) => i > 0 && rec(i - 1) && rec(i + 1));
    const bad = [...new Set([recorded[0]!, recorded.at(-1)!, ...(lonely === undefined ? [] : [lonely]), ...(inner === undefined ? [] : [inner])])];
    const unrecorded = Array.from({ length: info.nblocks }, (_, i) => i).find((i) => !rec(i) && rec(i + 1));
    for (const b of bad) scribble(f, b);
    if (unrecorded !== undefined) scribble(f, unrecorded);
    for (const verifyMaxGap of [0, 8]) {
      const v = await verifyTarget({ filename: f, state, verifyMaxGap });
      t.equal(v.verify.finalPass.blocks, recorded.length, `gap ${verifyMaxGap}: every recorded block`);
      t.equal(v.verify.errors, bad.length, `gap ${verifyMaxGap}: blocks ${bad.join(', ')} are bad, the scribbled unrecorded block ${String(unrecorded)} is not checked`);
      t.same(v.verify.details.map((d) => d.offset / BS).sort((a, b) => a - b), [...bad].sort((a, b) => a - b));
      t.equal(v.verify.finalPass.ok, recorded.length - bad.length);
    }
  });

  t.test('more reads in flight than the load had: every block still checked, a bad one caught', async (t) => {
    const f = join(dir, 'deep.dat');
    const j = await runLoad({ filename: f, bs: BS, size: '2m', iodepth: 2, seed: 5, verify: true, rw: 'randwrite', ios: 200 });
    const state = j.state!;
    const recorded = recordedBlocks(state);
    const victim = recorded[Math.floor(recorded.length / 2)]!;
    scribble(f, victim);
    // a follow-up job on the same record: one read at iodepth 2, then its final pass 64 deep
    const r = await runLoad({ filename: f, bs: BS, size: '2m', iodepth: 2, verifyIodepth: 64, seed: 5, verify: true, rw: 'read', ios: 1, state });
    const fp = r.verify.finalPass;
    t.equal(fp.iodepth, 64, 'the final pass took verifyIodepth slots');
    t.equal(fp.blocks, recorded.length);
    t.equal(fp.checked, recorded.length);
    const caught = r.verify.details.filter((d) => d.phase === 'verify').map((d) => d.offset / BS);
    t.same(caught, [victim], `block ${victim} caught by the final pass`);
    t.equal(fp.ok, recorded.length - 1);
  });

  t.test('a block whose write outcome is unknown is read and checked too', async (t) => {
    const f = join(dir, 'unknown.dat');
    const j = await runLoad({ filename: f, bs: BS, size: '1m', iodepth: 4, seed: 11, verify: true, rw: 'randwrite', ios: 40 });
    const st = Buffer.from(j.state!);
    const { nblocks } = decodeStateHeader(st);
    const rec = (i: number): boolean => blockRecord(st, i).acked > 0;
    // a block nobody acknowledged, between unrecorded ones: mark it issued, never acknowledged
    const lone = Array.from({ length: nblocks }, (_, i) => i).find((i) => i > 0 && i < nblocks - 1 && !rec(i - 1) && !rec(i) && !rec(i + 1))!;
    const L = loaderLimits();
    st.writeUInt32LE(1, L.stateHeaderBytes + lone * L.stateRecordBytes + 4);
    let v = await verifyTarget({ filename: f, state: st });
    t.equal(v.verify.errors, 0, 'never written: legal');
    t.equal(v.verify.finalPass.okUnwritten, 1, 'and it was read');
    t.equal(v.verify.finalPass.checked, stateCounts(j.state!).written + 1);
    const fd = openSync(f, 'r+');
    writeSync(fd, engineTestHooks().uringFormatBlock(BS, 11, lone * BS, 1), 0, BS, lone * BS);
    closeSync(fd);
    v = await verifyTarget({ filename: f, state: st });
    t.equal(v.verify.finalPass.okInflight, 1, 'its write landed: legal');
    scribble(f, lone);
    v = await verifyTarget({ filename: f, state: st });
    t.same(v.verify.details.map((d) => [d.offset / BS, d.kind]), [[lone, 'torn']], 'torn: caught');
  });
}
