// The final read-back pass reads whole windows of recorded blocks at a time (fast under
// TCG, where a read costs the same at 4 KiB as at 128 KiB) and still checks every
// recorded block on its own: a bad block among good ones, a block between unrecorded
// ones, the first and the last block of a window are each found, nothing else is.
import t from 'tap';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, verifyTarget } from '../../src/load/run.js';
import { blockRecord, decodeStateHeader } from '../../src/load/verify.js';
import { stateCounts } from '../helpers/engine-output.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-final-pass-');
if (dir) {
  const BS = 4096;
  /** Blocks one read of the final pass may span (128 KiB). */
  const WINDOW = (128 * 1024) / BS;

  const scribble = (f: string, block: number): void => {
    const fd = openSync(f, 'r+');
    writeSync(fd, Buffer.alloc(100, 0xa5), 0, 100, block * BS + 200);
    closeSync(fd);
  };

  t.test('every block written: one read per window, every block checked', async (t) => {
    const f = join(dir, 'full.dat');
    const r = await runLoad({ filename: f, bs: BS, size: '2m', iodepth: 8, seed: 7, verify: true, rw: 'write' });
    const fp = r.verify.finalPass;
    t.equal(fp.blocks, 512);
    t.equal(fp.checked, 512);
    t.equal(fp.ok, 512);
    t.equal(fp.reads, 512 / WINDOW, `${fp.reads} reads of up to ${WINDOW} blocks`);
  });

  t.test('sparse writes: only windows with a record are read, only recorded blocks are checked', async (t) => {
    const f = join(dir, 'sparse.dat');
    const r = await runLoad({ filename: f, bs: BS, size: '4m', iodepth: 4, seed: 9, verify: true, rw: 'randwrite', ios: 40 });
    const { written } = stateCounts(r.state!);
    const info = decodeStateHeader(r.state!);
    const windows = new Set<number>();
    for (let i = 0; i < info.nblocks; i++) if (blockRecord(r.state!, i).acked) windows.add(Math.floor(i / WINDOW));
    const fp = r.verify.finalPass;
    t.equal(fp.blocks, written);
    t.equal(fp.checked, written);
    t.equal(fp.ok, written);
    t.ok(fp.reads! >= Math.ceil(windows.size / 2) && fp.reads! <= windows.size * 2, `${fp.reads} reads for ${windows.size} windows with a record`);
    t.ok(fp.reads! < written, 'fewer reads than blocks');
  });

  t.test('a bad block anywhere in a read is that block, and only it', async (t) => {
    const f = join(dir, 'bad.dat');
    const j = await runLoad({ filename: f, bs: BS, size: '1m', iodepth: 8, seed: 3, verify: true, rw: 'randwrite', ios: 120 });
    const state = j.state!;
    const info = decodeStateHeader(state);
    const rec = (i: number): boolean => blockRecord(state, i).acked > 0;
    const recorded = Array.from({ length: info.nblocks }, (_, i) => i).filter(rec);
    // the first and the last recorded block, one with unrecorded neighbours if there is one, and the last block of a window
    const lonely = recorded.find((i) => i > 0 && !rec(i - 1) && !rec(i + 1));
    const windowEnd = recorded.find((i) => i % WINDOW === WINDOW - 1);
    const bad = [...new Set([recorded[0]!, recorded.at(-1)!, ...(lonely === undefined ? [] : [lonely]), ...(windowEnd === undefined ? [] : [windowEnd])])];
    const unrecorded = Array.from({ length: info.nblocks }, (_, i) => i).find((i) => !rec(i) && rec(i + 1));
    for (const b of bad) scribble(f, b);
    if (unrecorded !== undefined) scribble(f, unrecorded);
    const v = await verifyTarget({ filename: f, state });
    t.equal(v.verify.finalPass.blocks, recorded.length);
    t.equal(v.verify.errors, bad.length, `blocks ${bad.join(', ')} are bad, the scribbled unrecorded block ${String(unrecorded)} is not checked`);
    t.same(v.verify.details.map((d) => d.offset / BS).sort((a, b) => a - b), [...bad].sort((a, b) => a - b));
    t.equal(v.verify.finalPass.ok, recorded.length - bad.length);
  });
}
