import t from 'tap';
import { buildComparison, distribution, formatComparison } from '../../src/report/stats.js';
import { median, nearestRank } from '../../src/util/percentile.js';
import { failRun, passRun, results } from './report-fixtures.js';

t.test('distribution of known data', async (t) => {
  const d = distribution([5, 1, 4, 2, 3]);
  t.same(d, { n: 5, never: 0, min: 1, median: 3, p95: 5, max: 5 });
  // even count: median is the mean of the two middle values
  t.equal(distribution([4, 1, 3, 2]).median, 2.5);
  // nearest-rank p95 of 1..20 is the 19th value, of 1..100 the 95th, of 1..10 the 10th
  const r = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  t.equal(distribution(r(20)).p95, 19);
  t.equal(distribution(r(100)).p95, 95);
  t.equal(distribution(r(10)).p95, 10);
  t.equal(distribution(r(21)).p95, 20);
  t.equal(nearestRank([7], 95), 7);
  t.equal(median([]), null);
});

t.test('nulls are counted as never, not as values', async (t) => {
  t.same(distribution([null, 300, null, 100, 200]), { n: 3, never: 2, min: 100, median: 200, p95: 300, max: 300 });
  t.same(distribution([null, null]), { n: 0, never: 2, min: null, median: null, p95: null, max: null });
  t.same(distribution([]), { n: 0, never: 0, min: null, median: null, p95: null, max: null });
});

t.test('comparison puts stock and patched side by side per scenario', async (t) => {
  const runs = [
    passRun({ iteration: 1, metrics: { ...passRun().metrics, outage_ms: 3000 } }),
    passRun({ iteration: 2, metrics: { ...passRun().metrics, outage_ms: 2000 } }),
    passRun({ iteration: 3, verdict: 'FAIL', metrics: { ...passRun().metrics, outage_ms: 9000, io_errors: 3 } }),
    failRun({ iteration: 1 }),
    failRun({ iteration: 2, verdict: 'ERROR' }),
    passRun({ scenario: 'target-rdma-link', kernel: 'stock', verify_errors: 0 } as never),
  ];
  const c = buildComparison(results(runs));
  t.same(c.kernels, ['stock', 'patched']);
  t.same(c.rows.map((r) => r.scenario), ['host-rdma-link', 'target-rdma-link']);
  const p = c.rows[0]!.kernels.patched!;
  t.same(p.verdicts, { PASS: 2, FAIL: 1, ERROR: 0, SKIP: 0 });
  t.equal(p.outage_ms.median, 3000);
  t.equal(p.outage_ms.max, 9000);
  t.equal(p.io_errors, 3);
  const s = c.rows[0]!.kernels.stock!;
  t.same(s.verdicts, { PASS: 0, FAIL: 1, ERROR: 1, SKIP: 0 });
  t.same(s.ctrl_live_ms, { n: 0, never: 2, min: null, median: null, p95: null, max: null });
  t.equal(s.io_errors, 32);
  t.equal(c.rows[1]!.kernels.patched, undefined, 'a kernel without runs of a scenario is absent');
  const text = formatComparison(c);
  t.match(text, /host-rdma-link\s+1 FAIL, 1 ERROR\s+7\.00 s\s+never\s+never\s+32\/0\s+2 PASS, 1 FAIL\s+3\.00 s/);
});
