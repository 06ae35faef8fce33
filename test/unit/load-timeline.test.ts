import t from 'tap';
import {
  bucketize,
  firstCompletionAfter,
  gapsAbove,
  longestGap,
  percentile,
  timelineRows,
  timelineTotals,
  type ColumnarTimeline,
} from '../../src/load/timeline.js';

const MS = 1e6;

t.test('nearest-rank percentiles', async (t) => {
  t.equal(percentile([], 50), 0);
  t.equal(percentile([7], 99), 7);
  const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  t.equal(percentile(v, 50), 50);
  t.equal(percentile(v, 99), 99);
  t.equal(percentile(v, 100), 100);
  t.equal(percentile(v, 1), 1);
  t.equal(v[0], 100, 'input not modified');
});

t.test('bucketing into fixed intervals', async (t) => {
  const start = 1_000 * MS;
  const ev = [
    { tNs: start + 1 * MS, latNs: 100, op: 'read' as const, ok: true },
    { tNs: start + 9.999 * MS, latNs: 300, op: 'write' as const, ok: true },
    { tNs: start + 10 * MS, latNs: 200, op: 'read' as const, ok: true }, // boundary: next interval
    { tNs: start + 15 * MS, latNs: 0, op: 'read' as const, ok: false },
    { tNs: start + 35 * MS, latNs: 50, op: 'read' as const, ok: true },
    { tNs: start - 1, latNs: 50, op: 'read' as const, ok: true }, // before start: ignored
  ];
  const rows = bucketize(ev, start, 10 * MS, start + 40 * MS);
  t.equal(rows.length, 4);
  t.same(
    rows.map((r) => [r.tMs, r.reads, r.writes, r.errors, r.p50Ns, r.p99Ns, r.maxNs]),
    [
      [0, 1, 1, 0, 100, 300, 300],
      [10, 1, 0, 1, 200, 200, 200],
      [20, 0, 0, 0, 0, 0, 0],
      [30, 1, 0, 0, 50, 50, 50],
    ],
  );
});

t.test('gaps between consecutive completions', async (t) => {
  const c = [0, 1, 2, 60, 61, 200].map((x) => x * MS);
  const g = gapsAbove(c, 50 * MS);
  t.same(
    g.map((x) => [x.startNs / MS, x.endNs / MS, x.ns / MS, x.open]),
    [
      [2, 60, 58, false],
      [61, 200, 139, false],
    ],
  );
  t.same(gapsAbove(c, 58 * MS).length, 2, 'threshold is inclusive');
  t.same(gapsAbove(c, 58 * MS + 1).length, 1);
  const open = gapsAbove(c, 50 * MS, 300 * MS);
  t.same(open[2], { startNs: 200 * MS, endNs: 300 * MS, ns: 100 * MS, open: true }, 'trailing gap is open');
  t.same(gapsAbove([0, 10, 5].map((x) => x * MS), 6 * MS).length, 0, 'sorted first');
  t.equal(longestGap(g)?.ns, 139 * MS);
  t.equal(longestGap(g, 0, 30 * MS)?.ns, 58 * MS, 'window restricts to overlapping gaps');
  t.equal(longestGap(g, 300 * MS), undefined);
});

t.test('recovery time: exact inside a gap, bounded by the timeline otherwise', async (t) => {
  const tl: ColumnarTimeline = {
    startNs: 0,
    intervalNs: 10 * MS,
    reads: [5, 5, 0, 0, 0, 0, 3, 4],
    writes: [0, 0, 0, 0, 0, 0, 0, 0],
    errors: [0, 0, 1, 0, 0, 0, 0, 0],
    p50Ns: [1, 1, 0, 0, 0, 0, 1, 1],
    p99Ns: [2, 2, 0, 0, 0, 0, 2, 2],
    maxNs: [3, 3, 0, 0, 0, 0, 3, 3],
  };
  const gaps = [{ startNs: 19 * MS, endNs: 61 * MS, ns: 42 * MS, open: false }];
  t.same(firstCompletionAfter(30 * MS, gaps, tl, 20 * MS), { ns: 31 * MS, exact: true });
  t.same(firstCompletionAfter(65 * MS, gaps, tl, 20 * MS), { ns: 5 * MS, exact: false });
  t.equal(firstCompletionAfter(30 * MS, [{ ...gaps[0]!, open: true }], tl, 20 * MS), undefined);
  t.same(timelineTotals(tl), { reads: 17, writes: 0, errors: 1 });
  const rows = timelineRows(tl);
  t.equal(rows.length, 8);
  t.same(rows[6], { tNs: 60 * MS, tMs: 60, reads: 3, writes: 0, errors: 0, p50Ns: 1, p99Ns: 2, maxNs: 3 });
});
