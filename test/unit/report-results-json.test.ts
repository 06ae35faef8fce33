// results.json version 2: written compact with the I/O series as columns, read back to the
// same results, version 1 files still read; merge of shards; the report / merge commands.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import t, { type Test } from 'tap';
import { registerReportCommand } from '../../src/cli/report-command.js';
import { capIntervals, fromIoSeries, MAX_STORED_INTERVALS, toIoSeries } from '../../src/report/io-series.js';
import { mergeResults, parseResults, readResultsJson, resultsToJson, toResultsFile } from '../../src/report/results-json.js';
import { timelineSvg } from '../../src/report/html.js';
import { REPORT_FILES, writeReport } from '../../src/report/write-all.js';
import type { RunResult } from '../../src/scenario/types.js';
import { UsageError } from '../../src/util/errors.js';
import { failRun, ioSeries, kernelInfo, passRun, results } from './report-fixtures.js';

async function tmp(t: Test): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'rb-report-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A run like the runner's: 10 ms intervals at a guest-clock offset with ns resolution. */
function realisticRun(over: Partial<RunResult> = {}, points = 2807): RunResult {
  const t0 = 25397.988671;
  const io = Array.from({ length: points }, (_, i) => ({
    t_ms: Number(BigInt(Math.round(t0 * 1e6)) + 10_000_000n * BigInt(i)) / 1e6,
    completions: i > 900 && i < 1200 ? 0 : 20 + ((i * 7) % 31),
    errors: i === 901 ? 3 : 0,
  }));
  const events = Array.from({ length: 19 }, (_, i) => ({ t_ms: t0 + i * 1234.567891, vm: i % 2 ? 'host' : 'target', kind: 'ctrl', key: 'nvme0', value: 'connecting' }));
  return passRun({ io, events, kernel_info: kernelInfo('patched'), phases_ms: { boot: 6600, setup: 18000 }, ...over });
}

/** results.json version 1 text, as reset-bench 0.1.0 wrote it. */
function v1Text(runs: RunResult[]): string {
  return `${JSON.stringify({ ...results(runs), version: 1 }, null, 2)}\n`;
}

t.test('the I/O series as columns: lossless for evenly spaced points, errors only when there are some', async (t) => {
  const run = realisticRun();
  const s = toIoSeries(run.io);
  t.equal(s.t0_ms, 25397.989);
  t.equal(s.interval_ms, 10);
  t.equal(s.completions.length, 2807);
  t.equal(s.errors.length, 2807);
  t.equal(s.errors[901], 3);
  const back = fromIoSeries(s);
  t.equal(back.length, run.io.length);
  t.ok(back.every((p, i) => Math.abs(p.t_ms - run.io[i]!.t_ms) < 0.001 && p.completions === run.io[i]!.completions && p.errors === run.io[i]!.errors), 'every point back within a microsecond');
  t.same(toIoSeries(passRun().io).errors, [], 'no errors: an empty errors column');
  t.same(toIoSeries([]), { t0_ms: 0, interval_ms: 0, completions: [], errors: [] });
  t.throws(() => toIoSeries([{ t_ms: 0, completions: 1, errors: 0 }, { t_ms: 10, completions: 1, errors: 0 }, { t_ms: 25, completions: 1, errors: 0 }]), /point 1 is at 10 ms, not at 12\.5 ms/);
});

t.test('a run stays under 20 KB, and the report draws the same timeline from it', async (t) => {
  const run = realisticRun();
  const before = v1Text([run]).length;
  const text = resultsToJson(results([run]));
  t.ok(text.length <= 20 * 1024, `results.json of one 2807-interval run: ${text.length} bytes (v1: ${before})`);
  t.ok(before > 10 * text.length, 'ten times smaller at least');
  const back = parseResults(text);
  t.equal(timelineSvg(back.runs[0]!), timelineSvg(run), 'the SVG timeline is the same, point for point');
  t.same(back.runs[0]!.kernel_info, run.kernel_info);
  t.same(back.runs[0]!.phases_ms, run.phases_ms);
  // a run that used the loader's whole runtime: merged to at most MAX_STORED_INTERVALS
  const long = realisticRun({}, 30_000);
  const longText = resultsToJson(results([long]));
  t.ok(longText.length <= 80 * 1024, `a 30000-interval run: ${longText.length} bytes`);
  const stored = toResultsFile(results([long])).runs[0]!.io;
  t.ok(stored.completions.length <= MAX_STORED_INTERVALS);
  t.equal(stored.interval_ms, 100);
  t.equal(stored.completions.reduce((a, b) => a + b, 0), long.io.reduce((a, p) => a + p.completions, 0), 'no completion lost in the merge');
  t.equal(stored.errors.reduce((a, b) => a + b, 0), 3, 'no error lost in the merge');
  t.same(capIntervals(toIoSeries(run.io)), toIoSeries(run.io), 'short series untouched');
});

t.test('results.json round trip with a stable key order and compact text', async (t) => {
  const dir = await tmp(t);
  const r = results([failRun(), realisticRun()]);
  const file = path.join(dir, 'results.json');
  await writeFile(file, resultsToJson(r));
  const back = await readResultsJson(dir);
  const text = await readFile(file, 'utf8');
  t.equal(resultsToJson(back), text, 'writing what was read gives the same bytes');
  t.same(back.runs[0], r.runs[0], 'a run with round times comes back equal');
  const shuffled = { runs: r.runs.map((x) => ({ extra: 1, ...Object.fromEntries(Object.entries(x).reverse()) })), tool: r.tool, generated_at: r.generated_at, version: 2 };
  t.equal(resultsToJson(shuffled as never), text, 'key order and unknown keys do not change the text');
  t.match(text, /^\{\n {2}"version": 2,\n {2}"generated_at"/);
  t.match(text, /\n {6}"io": \{\n {8}"t0_ms": 0,\n {8}"interval_ms": 250,\n {8}"completions": \[1150,1170,/, 'a column is one line');
  t.match(text, /\n {8}\{"t_ms":5000,"vm":"host","kind":"reset","key":"rdma-link","value":"down"\},\n/, 'an event is one line');
  t.notOk(/\d\.\d{4,}/.test(text), 'no time with more than three decimals');
  t.equal(JSON.parse(text).runs[1].events[1].t_ms, 26632.557, 'event times to the microsecond');
});

t.test('version 1 files: read for report and merge, the series converted', async (t) => {
  const v1 = v1Text([failRun(), passRun({ kernel: 'patched' })]);
  const r = parseResults(v1, 'old/results.json');
  t.equal(r.version, 2);
  t.same(r.runs, results([failRun(), passRun()]).runs);
  const rewritten = JSON.parse(resultsToJson(r));
  t.equal(rewritten.version, 2);
  t.same(rewritten.runs[1].io.completions.slice(0, 3), [1150, 1170, 1190]);
});

t.test('a bad results.json is rejected with the field named', async (t) => {
  const bad = JSON.parse(resultsToJson(results()));
  bad.runs[1].metrics.outage_ms = 'soon';
  const err = (() => {
    try {
      parseResults(JSON.stringify(bad), 'x/results.json');
    } catch (e) {
      return e;
    }
  })();
  t.ok(err instanceof UsageError);
  t.match((err as Error).message, /^x\/results\.json: runs\[1\]\.metrics\.outage_ms: /);
  t.throws(() => parseResults('{"version":3,"runs":[]}', 'y.json'), /y\.json: version: unsupported version 3: this reset-bench reads versions 1 and 2/);
  t.throws(() => parseResults('{not json', 'z.json'), /z\.json: not valid JSON/);
  const cols = JSON.parse(resultsToJson(results([passRun({ io: ioSeries(1000, 0, 0, [0, 1000]) })])));
  cols.runs[0].io.errors.pop();
  t.throws(() => parseResults(JSON.stringify(cols), 'c.json'), /c\.json: runs\[0\]\.io\.errors: errors must be empty \(no errors\) or as long as completions/);
  const v1bad = JSON.parse(v1Text([passRun()]));
  v1bad.runs[0].verdict = 'MAYBE';
  t.throws(() => parseResults(JSON.stringify(v1bad), 'w.json'), /w\.json: runs\[0\]\.verdict/);
  t.throws(() => resultsToJson(results([passRun({ io: [{ t_ms: 0, completions: 1, errors: 0 }, { t_ms: 10, completions: 1, errors: 0 }, { t_ms: 30, completions: 1, errors: 0 }] })])), /runs\[0\]\.io\[1\]\.t_ms: I\/O point 1/);
  const dir = await tmp(t);
  await t.rejects(readResultsJson(dir), /results\.json: no results\.json here/);
  await t.rejects(readResultsJson(path.join(dir, 'nope')), /nope: no such file/);
});

t.test('merge of shards: sorted, artifacts rebased, duplicates rejected', async (t) => {
  const a = results([passRun({ scenario: 'target-rdma-link' }), failRun()]);
  const b = results([passRun()]);
  const m = mergeResults(
    [
      { source: 'shard1/results.json', dir: '/r/shard1', results: a },
      { source: 'shard2/results.json', dir: '/r/shard2', results: b },
    ],
    { outDir: '/r/merged', generatedAt: '2025-01-16T00:00:00.000Z' },
  );
  t.same(m.runs.map((r) => `${r.scenario}/${r.kernel}`), ['host-rdma-link/patched', 'host-rdma-link/stock', 'target-rdma-link/patched']);
  t.equal(m.runs[0]!.artifacts['host console'], '../shard2/host-rdma-link/patched/1/host-console.log');
  t.equal(m.generated_at, '2025-01-16T00:00:00.000Z');
  t.equal(m.version, 2);
  t.throws(
    () =>
      mergeResults([
        { source: 'shard1/results.json', results: a },
        { source: 'shard2/results.json', results: results([failRun()]) },
      ]),
    /shard2\/results\.json: duplicate run host-rdma-link \[stock\] #1 \(also in shard1\/results\.json\)/,
  );
  t.throws(() => mergeResults([]), UsageError);
});

async function cli(...argv: string[]): Promise<string> {
  const program = new Command('reset-bench').exitOverride();
  registerReportCommand(program);
  const out: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = (s: string) => (out.push(s), true);
  try {
    await program.parseAsync(['node', 'reset-bench', ...argv]);
  } finally {
    process.stdout.write = orig;
  }
  return out.join('');
}

t.test('`report` rebuilds byte for byte what the run wrote', async (t) => {
  const dir = await tmp(t);
  const run = realisticRun({ artifacts: { timeline: 'runs/x/timeline.json', console_target: 'runs/x/target.console.log', console_host: 'runs/x/host.console.log' } });
  await writeReport(dir, results([failRun(), run]), { kcidbOrigin: 'lab_1' });
  const first = new Map<string, string>();
  for (const f of REPORT_FILES) first.set(f, await readFile(path.join(dir, f), 'utf8'));
  for (const f of REPORT_FILES) if (f !== 'results.json') await rm(path.join(dir, f));
  await cli('report', dir, '--kcidb-origin', 'lab_1');
  for (const f of REPORT_FILES) t.equal(await readFile(path.join(dir, f), 'utf8'), first.get(f), `${f} the same`);
});

t.test('writeReport and the report / merge commands, a version 1 shard among them', async (t) => {
  const dir = await tmp(t);
  const s1 = path.join(dir, 's1');
  const s2 = path.join(dir, 's2');
  const { files } = await writeReport(s1, results([failRun()]));
  t.same(files.map((f) => path.basename(f)), [...REPORT_FILES]);
  await writeReport(s2, results([passRun()]));
  await writeFile(path.join(s2, 'results.json'), v1Text([passRun()]));
  const merged = path.join(dir, 'merged');
  const printed = await cli('merge', merged, s1, path.join(s2, 'results.json'), '--kcidb-origin', 'nightly_ci');
  t.match(printed, /merged\/report\.html/);
  const m = await readResultsJson(merged);
  t.equal(m.runs.length, 2);
  t.match(await readFile(path.join(merged, 'results.json'), 'utf8'), /^ {2}"version": 2,$/m, 'merged output is version 2');
  t.match(await readFile(path.join(merged, 'results.tap'), 'utf8'), /^1\.\.2$/m);
  t.match(await readFile(path.join(merged, 'kcidb.json'), 'utf8'), /"origin": "nightly_ci"/);
  await rm(path.join(merged, 'report.html'));
  const v1Dir = path.join(dir, 'v1');
  await writeReport(v1Dir, results([passRun()]));
  await writeFile(path.join(v1Dir, 'results.json'), v1Text([passRun()]));
  await cli('report', v1Dir);
  t.equal(await readFile(path.join(v1Dir, 'results.json'), 'utf8'), v1Text([passRun()]), '`report` leaves a v1 results.json as it is');
  t.match(await readFile(path.join(v1Dir, 'report.html'), 'utf8'), /<svg/);
  await cli('report', merged);
  t.match(await readFile(path.join(merged, 'report.html'), 'utf8'), /<svg/);
  await t.rejects(cli('merge', path.join(dir, 'm2'), s1, s1), /duplicate run/);
  await t.rejects(cli('report', merged, '--kcidb-origin', 'Bad-Origin'), /--kcidb-origin: "Bad-Origin" is not a KCIDB origin/);
  await writeFile(path.join(dir, 'bad.json'), '{"version":2,"generated_at":"now","tool":{"name":"r","version":"1"},"runs":"x"}');
  const err = await cli('report', path.join(dir, 'bad.json')).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof UsageError, 'bad input is a UsageError (exit 2)');
  t.match((err as Error).message, /bad\.json: runs: /);
});
