// The benchmark's pure part: medians, the derived measures (target+connect, verify,
// boot to verdict), the ratio to the goals and the table; and reading them back from a
// results directory with its loader.json files.
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchRunsFrom, finalPassMs } from '../../src/bench/from-results.js';
import { benchRows, formatBenchTable, GOALS, type BenchRun } from '../../src/bench/phase-stats.js';
import { median } from '../../src/util/percentile.js';
import { writeReport } from '../../src/report/write-all.js';
import { passRun, results } from './report-fixtures.js';

const phases = (boot: number, target: number, connect: number, finish: number): Record<string, number> => ({
  boot, target, instrument: 100, connect, load: 2500, resets: 4100, watch: 1500, finish, collect: 300, judge: 1, shutdown: 400,
});

const runs: BenchRun[] = [
  { verdict: 'PASS', phases: phases(6000, 9000, 2000, 13_000), postMs: 2000, finalPassMs: 10_500 },
  { verdict: 'PASS', phases: phases(5000, 8000, 3000, 12_000), postMs: 2000, finalPassMs: 9_800 },
  { verdict: 'PASS', phases: phases(7000, 10_000, 1000, 14_000), postMs: 2000, finalPassMs: 11_000 },
];

t.test('median: odd, even, unsorted, none', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([7]), 7);
  t.equal(median([]), null);
});

t.test('a row per phase in run order, then the derived measures with their goals', async (t) => {
  const rows = benchRows(runs);
  t.same(
    rows.map((r) => r.name),
    ['boot', 'target', 'instrument', 'connect', 'load', 'resets', 'watch', 'finish', 'collect', 'judge', 'shutdown', 'target+connect', 'verify', 'final-pass', 'boot-to-verdict'],
  );
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  t.same(by.boot, { name: 'boot', n: 3, median: 6000, min: 5000, max: 7000, goal: GOALS.boot, ratio: 1.5 });
  // target+connect: booted to connected, the instrument phase between them included
  t.same(by['target+connect'], { name: 'target+connect', n: 3, median: 11_100, min: 11_100, max: 11_100, goal: 3000, ratio: 11_100 / 3000 });
  // verify is the finish phase after post_ms
  t.same(by.verify, { name: 'verify', n: 3, median: 11_000, min: 10_000, max: 12_000, goal: 3000, ratio: 11_000 / 3000 });
  t.equal(by['final-pass']!.median, 10_500);
  t.equal(by['final-pass']!.goal, undefined, 'no goal of its own');
  // boot to verdict: every phase but shutdown
  t.equal(by['boot-to-verdict']!.median, 6000 + 9000 + 100 + 2000 + 2500 + 4100 + 1500 + 13_000 + 300 + 1);
  t.equal(by.load!.goal, undefined);
});

t.test('a run without a final pass (a FAIL) has no verify; one without phases no boot to verdict', async (t) => {
  const fail: BenchRun = { verdict: 'FAIL', phases: { boot: 6000, target: 9000, connect: 2000, watch: 20_000, finish: 500 }, postMs: 2000 };
  const rows = benchRows([fail, { verdict: 'ERROR', phases: {} }]);
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  t.equal(by.verify, undefined);
  t.equal(by.watch!.n, 1);
  t.equal(by['boot-to-verdict']!.n, 1);
  t.equal(by['boot-to-verdict']!.median, 37_500);
});

t.test('the table: seconds, the ratio and whether the goal is met, the verdict tally', async (t) => {
  const text = formatBenchTable(benchRows(runs), [...runs, { verdict: 'FAIL', phases: {} }]);
  const lines = text.trimEnd().split('\n');
  t.equal(lines[0], '4 run(s): 3 PASS, 1 FAIL');
  t.match(lines[1]!, /^measure\s+n\s+median s\s+min s\s+max s\s+goal s\s+median\/goal$/);
  t.match(text, /^boot\s+3\s+6\.00\s+5\.00\s+7\.00\s+4\.00\s+1\.50 MISS$/m);
  t.match(text, /^judge\s+3\s+0\.00\s+0\.00\s+0\.00$/m);
  const fast = benchRows([{ verdict: 'PASS', phases: { boot: 3000 } }]);
  t.match(formatBenchTable(fast, []), /^boot\s+1\s+3\.00\s+3\.00\s+3\.00\s+4\.00\s+0\.75 ok$/m);
});

t.test('from a results directory: phases_ms, post_ms from the catalog, the final pass from loader.json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-bench-'));
  mkdirSync(join(dir, 'runs', 'a'), { recursive: true });
  writeFileSync(join(dir, 'runs', 'a', 'loader.json'), JSON.stringify({ verify: { finalPass: { ran: true, startNs: 1e9, endNs: 3.5e9 } } }));
  writeFileSync(join(dir, 'runs', 'a', 'bad.json'), '{');
  const a = passRun({ scenario: 'host-rdma-link', iteration: 1, phases_ms: { boot: 6000, finish: 5000 }, artifacts: { loader: 'runs/a/loader.json' } });
  const b = passRun({ scenario: 'host-rdma-link', iteration: 2, phases_ms: { boot: 5000 }, artifacts: {} });
  const c = passRun({ scenario: 'my-own', iteration: 1, phases_ms: { boot: 1 }, artifacts: { loader: 'runs/a/bad.json' } });
  await writeReport(dir, results([a, b, c]));
  const got = await benchRunsFrom(dir);
  t.same(got, [
    { verdict: 'PASS', phases: { boot: 6000, finish: 5000 }, postMs: 2000, finalPassMs: 2500 },
    { verdict: 'PASS', phases: { boot: 5000 }, postMs: 2000 },
    { verdict: 'PASS', phases: { boot: 1 } },
  ]);
  t.equal((await benchRunsFrom(join(dir, 'results.json'), [], 'my-own')).length, 1);
  t.equal(await finalPassMs(join(dir, 'nothing.json')), undefined);
  t.equal(benchRows(got).find((r) => r.name === 'verify')?.median, 3000);
});
