// The io_uring engine on a regular file in a tmp dir (O_DIRECT where the filesystem has it).
import t from 'tap';
import { closeSync, ftruncateSync, openSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, startLoad, verifyTarget, type Progress } from '../../src/load/run.js';
import { decodeStateHeader } from '../../src/load/verify.js';
import { UsageError } from '../../src/util/errors.js';
import { percentile, stateCounts, timelineTotals } from '../helpers/engine-output.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-load-');
if (dir) {
  const MS = 1e6;
  /** CLOCK_MONOTONIC ns, the engine's clock (libuv's hrtime reads the same clock). */
  const monoNs = (): number => Number(process.hrtime.bigint());
  const mkfile = (path: string, size: number): void => {
    const fd = openSync(path, 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
  };

  t.test('randwrite with verify, then a clean final pass', async (t) => {
    const f = join(dir, 'w.dat');
    const r = await runLoad({ filename: f, rw: 'randwrite', bs: 4096, size: '4m', iodepth: 16, ios: 4000, verify: true, seed: 9 });
    t.equal(r.write.ios, 4000);
    t.equal(r.read.ios, 0);
    t.equal(r.ioErrors, 0);
    t.equal(r.verify.errors, 0);
    t.ok(r.verify.finalPass.ran);
    const info = decodeStateHeader(r.state!);
    t.same(info, { bs: 4096, seed: 9, offset: 0, size: 4 * 1024 * 1024, nblocks: 1024 });
    const c = stateCounts(r.state!);
    t.equal(c.unacked, 0);
    t.equal(r.verify.finalPass.blocks, c.written, 'every written block was read back');
    t.equal(r.verify.finalPass.ok, c.written, 'and holds its acknowledged generation');
    t.ok(c.written > 900, `most blocks written (${c.written})`);
    t.comment(`direct=${r.target.direct} fixedBuffers=${r.target.fixedBuffers}`);
  });

  t.test('sequential write (one pass), then reads that verify against the state', async (t) => {
    const f = join(dir, 's.dat');
    const w = await runLoad({ filename: f, rw: 'write', bs: '8k', size: '2m', iodepth: 8, verify: true, seed: 3, finalVerify: false });
    t.equal(w.write.ios, 256, 'one pass over size/bs blocks without runtime or count');
    t.notOk(w.verify.finalPass.ran);
    const rd = await runLoad({ filename: f, rw: 'read', bs: '8k', size: '2m', iodepth: 8, verify: true, seed: 3, state: w.state });
    t.equal(rd.read.ios, 256);
    t.equal(rd.verify.errors, 0);
    t.equal(rd.verify.finalPass.ok, 256);
    const bad = runLoad({ filename: f, rw: 'read', bs: '8k', size: '2m', seed: 4, verify: true, state: w.state });
    await t.rejects(bad, UsageError, 'a state of another seed is refused');
  });

  t.test('randrw: mix, timeline adds up, intervals fixed', async (t) => {
    const f = join(dir, 'm.dat');
    const r = await runLoad({ filename: f, rw: 'randrw', rwmixread: 70, bs: 4096, size: '8m', iodepth: 16, runtimeMs: 500, verify: true });
    t.ok(r.read.ios > 0 && r.write.ios > 0);
    const share = r.read.ios / (r.read.ios + r.write.ios);
    t.ok(share > 0.6 && share < 0.8, `read share ${share.toFixed(2)} near 70%`);
    t.equal(r.verify.errors, 0);
    const tot = timelineTotals(r.timeline);
    t.equal(tot.reads, r.read.ios, 'timeline reads = reads');
    t.equal(tot.writes, r.write.ios, 'timeline writes = writes');
    const n = r.timeline.reads.length;
    t.equal(n, Math.ceil(r.runtimeNs / (10 * MS)), `${n} intervals of 10 ms cover the run`);
    // the end waits for in-flight I/O (as fio does): a slow disk may stretch it a little
    t.ok(r.runtimeNs >= 500 * MS && r.runtimeNs < 5000 * MS, `runtime honoured (${(r.runtimeNs / MS).toFixed(0)} ms)`);
    t.ok(r.read.lat.percentilesNs['50']! > 0 && r.read.lat.percentilesNs['50']! <= r.read.lat.maxNs);
  });

  t.test('rate limit spreads I/O evenly over intervals', async (t) => {
    const f = join(dir, 'r.dat');
    mkfile(f, 1024 * 1024);
    const r = await runLoad({ filename: f, rw: 'randread', size: '1m', runtimeMs: 500, rateIops: 1000, iodepth: 8 });
    // never above the rate (stalls of a busy host disk may make it lower)
    t.ok(r.read.ios >= 200 && r.read.ios <= 515, `${r.read.ios} I/Os at 1000/s over 500 ms`);
    const reads = Array.from(r.timeline.reads);
    const med = percentile(reads.slice(0, -1), 50);
    t.ok(med >= 5 && med <= 12, `median per 10 ms interval ${med}`);
    t.ok(Math.max(...reads) <= 30, 'no catch-up bursts');
  });

  t.test('gaps between completions are listed exactly', async (t) => {
    const f = join(dir, 'g.dat');
    mkfile(f, 1024 * 1024);
    const r = await runLoad({ filename: f, rw: 'randread', size: '1m', runtimeMs: 650, rateIops: 10, iodepth: 1, gapThresholdMs: 50 });
    t.ok(r.gaps.length >= 4, `${r.gaps.length} gaps`);
    const closed = r.gaps.filter((x) => !x.open);
    for (const g of closed) {
      t.ok(g.ns >= 50 * MS, 'at or above the threshold');
      t.equal(g.ns, g.endNs - g.startNs);
    }
    const med = percentile(closed.map((g) => g.ns), 50);
    t.ok(med >= 85 * MS && med <= 150 * MS, `median gap ${(med / MS).toFixed(1)} ms ~ 100 ms at 10 IOPS`);
    t.equal(r.metrics.longestGapMs, Math.max(...r.gaps.map((g) => g.ns)) / MS);
  });

  t.test('stop() ends a long job early; progress arrives on the JS thread', async (t) => {
    const f = join(dir, 'p.dat');
    mkfile(f, 4 * 1024 * 1024);
    const seen: Progress[] = [];
    const h = startLoad({ filename: f, rw: 'randread', size: '4m', runtimeMs: 60_000, progressMs: 50 }, { onProgress: (p) => seen.push(p) });
    await new Promise((r) => setTimeout(r, 400));
    const t0 = Date.now();
    h.stop();
    const r = await h.result;
    t.ok(Date.now() - t0 < 2000, 'stopped promptly');
    t.ok(r.stoppedEarly);
    t.ok(r.runtimeNs < 5e9);
    t.ok(seen.length >= 4, `${seen.length} progress reports`);
    for (let i = 1; i < seen.length; i++) t.ok(seen[i]!.elapsedNs > seen[i - 1]!.elapsedNs && seen[i]!.reads >= seen[i - 1]!.reads);
    const mono = monoNs();
    t.ok(Math.abs(seen[seen.length - 1]!.nowNs - mono) < 2e9, 'progress is on CLOCK_MONOTONIC');
  });

  t.test('signal aborts a job', async (t) => {
    const f = join(dir, 'p.dat');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const r = await runLoad({ filename: f, rw: 'randread', size: '4m', runtimeMs: 60_000 }, { signal: ac.signal });
    t.ok(r.stoppedEarly);
  });

  t.test('finishSignal ends the I/O phase early and still runs the final verify pass', async (t) => {
    const f = join(dir, 'fin.dat');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    const r = await runLoad(
      { filename: f, rw: 'randwrite', bs: 4096, size: '4m', iodepth: 8, runtimeMs: 60_000, verify: true, seed: 5 },
      { finishSignal: ac.signal },
    );
    t.ok(Date.now() - t0 < 20_000, 'ended long before the runtime');
    t.notOk(r.stoppedEarly, 'a finish is not an early stop');
    t.ok(r.write.ios > 0);
    t.ok(r.verify.finalPass.ran, 'the final pass ran');
    const c = stateCounts(r.state!);
    t.equal(r.verify.finalPass.ok, c.written, 'and read back every acknowledged block');
    t.equal(r.verify.errors, 0);
  });

  t.test('errors do not stop the run; failed I/O is retried after the back-off', async (t) => {
    // An outage: the file shrinks to nothing (reads return 0 = short), then comes back.
    const f = join(dir, 'e.dat');
    mkfile(f, 1024 * 1024);
    const h = startLoad({ filename: f, rw: 'randread', size: '1m', iodepth: 4, runtimeMs: 900, retryBackoffMs: 20, gapThresholdMs: 50 });
    await new Promise((r) => setTimeout(r, 250));
    const downNs = monoNs();
    truncateSync(f, 0);
    await new Promise((r) => setTimeout(r, 250));
    const upNs = monoNs();
    truncateSync(f, 1024 * 1024);
    const r = await h.result;
    t.ok(r.ioErrors > 0, `${r.ioErrors} errors recorded`);
    const e = r.errors[0]!;
    t.equal(e.code, 'SHORT');
    t.equal(e.op, 'read');
    t.equal(e.offset % 4096, 0);
    t.ok(e.timeNs >= downNs && e.timeNs <= upNs + 50 * MS, 'error time on CLOCK_MONOTONIC, inside the outage');
    t.ok(r.read.retries > 0, 'retried');
    const retryGaps = r.errors.filter((x) => x.attempt > 0);
    t.ok(retryGaps.length > 0, 'retries failed too while the file was gone');
    t.ok(r.read.ios > 0);
    const g = r.gaps.find((x) => x.startNs < upNs && x.endNs > downNs);
    t.ok(g, 'the outage is a listed gap');
    if (g) {
      t.ok(g.ns >= 200 * MS && g.ns <= 400 * MS, `outage gap ${(g.ns / MS).toFixed(1)} ms`);
      t.ok(g.endNs >= upNs && g.endNs - upNs <= 100 * MS, 'I/O resumed within a back-off or two after the file came back');
    }
    t.equal(r.abandoned, 0, 'nothing given up');
    const tl = timelineTotals(r.timeline);
    t.equal(tl.errors, r.ioErrors, 'errors in the timeline');
  });

  t.test('bad targets are usage errors', async (t) => {
    t.throws(() => startLoad({ filename: join(dir, 'nope', 'x'), rw: 'read' }), UsageError);
    mkfile(join(dir, 'small.dat'), 4096);
    t.throws(() => startLoad({ filename: join(dir, 'small.dat'), rw: 'read', size: '1m' }), /smaller/);
    await t.rejects(verifyTarget({ filename: join(dir, 'small.dat'), state: Buffer.alloc(64) }), UsageError);
  });
}
