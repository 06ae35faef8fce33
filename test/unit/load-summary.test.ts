import t from 'tap';
import { formatBench } from '../../src/load/bench.js';
import type { RawResult } from '../../src/load/native.js';
import { shapeResult } from '../../src/load/run.js';
import { parseJobSpec } from '../../src/load/spec.js';
import { fmtBytes, fmtBytesDec, fmtCount, formatSummary, latUnit } from '../../src/load/summary.js';

t.test('number formatting like fio', async (t) => {
  t.equal(fmtCount(950), '950');
  t.equal(fmtCount(9999), '9999');
  t.equal(fmtCount(93688), '93.7k');
  t.equal(fmtCount(123456), '123k');
  t.equal(fmtCount(1_530_000), '1.53M');
  t.equal(fmtBytes(4096), '4KiB');
  t.equal(fmtBytes(383_778_816), '366MiB');
  t.equal(fmtBytes(1536), '1.5KiB');
  t.equal(fmtBytes(100), '100B');
  t.equal(fmtBytesDec(383_778_816), '384MB');
  t.equal(latUnit(5_000).name, 'nsec');
  t.equal(latUnit(300_000).name, 'usec');
  t.equal(latUnit(500_000_000).name, 'msec');
});

const kinds = { lost: 0, missing: 0, torn: 0, corrupt: 0, misplaced: 0, future: 0 };
const pct = (v: number): Record<string, number> =>
  Object.fromEntries(['1', '5', '10', '20', '30', '40', '50', '60', '70', '80', '90', '95', '99', '99.5', '99.9', '99.95', '99.99'].map((k) => [k, v]));
function raw(over: Partial<RawResult> = {}): RawResult {
  const f = (a: number[]): Float64Array => Float64Array.from(a);
  return {
    direct: true,
    fixedBuffers: true,
    ringFlags: 0,
    stoppedEarly: false,
    startNs: 1e9,
    ioEndNs: 3e9,
    endNs: 3.5e9,
    firstCompletionNs: 1.0001e9,
    lastCompletionNs: 3e9,
    nblocks: 262144,
    size: 1024 ** 3,
    read: { ios: 200_000, bytes: 200_000 * 4096, errors: 0, retries: 0, lat: { count: 200_000, minNs: 41_000, maxNs: 7_040_000, meanNs: 340_510, percentilesNs: pct(322_000) } },
    write: { ios: 0, bytes: 0, errors: 0, retries: 0, lat: { count: 0, minNs: 0, maxNs: 0, meanNs: 0, percentilesNs: pct(0) } },
    ioErrors: 2,
    inflightAtEnd: 0,
    abandoned: 0,
    errors: [
      { timeNs: 2e9, op: 'read', offset: 8192, errno: 5, code: 'EIO', res: -5, latNs: 1e6, attempt: 0, phase: 'run' },
      { timeNs: 2.1e9, op: 'read', offset: 8192, errno: 5, code: 'EIO', res: -5, latNs: 1e6, attempt: 1, phase: 'run' },
    ],
    verify: {
      mismatches: 1,
      runMismatches: { ...kinds },
      details: [
        { timeNs: 3.2e9, offset: 40960, kind: 'lost', phase: 'verify', expectedGen: 3, issuedGen: 3, foundGen: 2, foundChecksum: '00000000000000aa', computedChecksum: '00000000000000aa', foundOffset: 40960, foundWriteNs: 1 },
      ],
      finalPass: { ran: true, startNs: 3e9, endNs: 3.5e9, blocks: 10, checked: 10, ok: 9, okInflight: 0, okUnwritten: 0, unreadable: 0, bad: 1, byKind: { ...kinds, lost: 1 } },
    },
    timeline: { startNs: 1e9, reads: f([1, 2]), writes: f([0, 0]), errors: f([0, 2]), p50Ns: f([1, 1]), p99Ns: f([1, 1]), maxNs: f([1, 1]) },
    gaps: [{ startNs: 1.5e9, endNs: 1.75e9, ns: 0.25e9, open: false }],
    ...over,
  };
}

t.test('results: rates, lost writes, timeline, gaps', async (t) => {
  const r = shapeResult(raw(), parseJobSpec({ filename: '/dev/x', rw: 'randread', verify: true }), 'load');
  t.equal(r.runtimeNs, 2e9);
  t.equal(r.read.iops, 100_000);
  t.equal(r.verify.lostWrites, 1);
  t.equal(r.metrics.longestGapMs, 250);
  t.same(r.timeline.reads, [1, 2], 'plain arrays, JSON-ready');
  t.equal(r.timeline.intervalNs, 10e6);
  t.notOk('state' in JSON.parse(JSON.stringify(r)), 'state is not part of the JSON');
});

t.test('fio-like summary', async (t) => {
  const r = shapeResult(raw(), parseJobSpec({ filename: '/dev/x', rw: 'randread', verify: true }), 'load');
  const s = formatSummary(r, 'job1');
  t.match(s, /^job1: \(g=0\): rw=randread, bs=4096B, ioengine=io_uring\(reset-bench, fixedbufs\), iodepth=32$/m);
  t.match(s, /^ {2}read: IOPS=100k, BW=391MiB\/s \(410MB\/s\)\(781MiB\/2000msec\)$/m);
  t.match(s, /clat \(usec\): min=41\.00, max=7040\.00, avg=340\.51/);
  t.match(s, /^ {5}\| {2}1\.00th=\[ {2}322\], {2}5\.00th=\[ {2}322\], 10\.00th=\[ {2}322\], 20\.00th=\[ {2}322\],$/m);
  t.match(s, /99\.99th=\[ {2}322\]$/m);
  t.match(s, /io errors: 2 \(read EIO=2\)/);
  t.match(s, /completion gaps >= 50ms: 1, longest=250\.0ms at \+500\.0ms/);
  t.match(s, /verify: FAILED: errors=1, lost=1, torn=0; final pass 10\/10 blocks: ok=9/);
  t.match(s, /lost at offset 40960 \(verify\): expected gen 3, found gen 2/);
  t.match(s, /^ {3}READ: bw=391MiB\/s \(410MB\/s\), io=781MiB \(819MB\), run=2000-2000msec$/m);
  t.notMatch(s, /WRITE:/);
  const ok = formatSummary(
    shapeResult(raw({ ioErrors: 0, errors: [], gaps: [], verify: { ...raw().verify, mismatches: 0, details: [], finalPass: { ...raw().verify.finalPass, byKind: { ...kinds } } } }), parseJobSpec({ filename: '/dev/x', verify: true }), 'load'),
  );
  t.match(ok, /verify: OK: errors=0, lost=0/);
  t.notMatch(ok, /io errors/);
});

t.test('bench lines end with ratio_min', async (t) => {
  const lines = formatBench({
    filename: '/dev/nullb0',
    runtimeMs: 10000,
    cases: [
      { rw: 'randread', bs: 4096, iodepth: 32, fioIops: 1000, loaderIops: 990, ratio: 0.99, meanRatio: 0.99, fioRuns: [], loaderRuns: [], fioCpuUsPerIo: 2, loaderCpuUsPerIo: 1.5 },
      { rw: 'randwrite', bs: 4096, iodepth: 32, fioIops: 1000, loaderIops: 960, ratio: 0.96, meanRatio: 0.95, fioRuns: [], loaderRuns: [], fioCpuUsPerIo: 2, loaderCpuUsPerIo: 1.5 },
    ],
    ratioMin: 0.96,
  });
  t.equal(lines.length, 3);
  t.match(lines[0]!, /randread .*fio=1000 loader=990 ratio=0\.990/);
  t.equal(lines[2], 'ratio_min=0.960');
});
