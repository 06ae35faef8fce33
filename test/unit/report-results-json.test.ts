import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import t, { type Test } from 'tap';
import { registerReportCommand } from '../../src/cli/report-command.js';
import { mergeResults, parseResults, readResultsJson, resultsToJson, writeResultsJson } from '../../src/report/results-json.js';
import { REPORT_FILES, writeReport } from '../../src/report/write-all.js';
import { UsageError } from '../../src/util/errors.js';
import { failRun, passRun, results } from './report-fixtures.js';

async function tmp(t: Test): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'rb-report-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

t.test('results.json round trip with a stable key order', async (t) => {
  const dir = await tmp(t);
  const r = results();
  const file = path.join(dir, 'results.json');
  await writeResultsJson(file, r);
  const back = await readResultsJson(dir);
  t.same(back, r);
  const text = await readFile(file, 'utf8');
  t.equal(resultsToJson(back), text, 'writing what was read gives the same bytes');
  // keys shuffled and an unknown key: the same canonical text
  const shuffled = { runs: r.runs.map((x) => ({ extra: 1, ...Object.fromEntries(Object.entries(x).reverse()) })), tool: r.tool, generated_at: r.generated_at, version: 1 };
  t.equal(resultsToJson(shuffled as never), text);
  t.match(text, /^\{\n {2}"version": 1,\n {2}"generated_at"/);
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
  t.throws(() => parseResults('{"version":2,"runs":[]}', 'y.json'), /y\.json: version/);
  t.throws(() => parseResults('{not json', 'z.json'), /z\.json: not valid JSON/);
  const v = structuredClone(bad);
  v.runs[1].metrics.outage_ms = 1;
  v.runs[0].verdict = 'MAYBE';
  t.throws(() => parseResults(JSON.stringify(v), 'w.json'), /w\.json: runs\[0\]\.verdict/);
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

t.test('writeReport and the report / merge commands', async (t) => {
  const dir = await tmp(t);
  const s1 = path.join(dir, 's1');
  const s2 = path.join(dir, 's2');
  const { files } = await writeReport(s1, results([failRun()]));
  t.same(files.map((f) => path.basename(f)), [...REPORT_FILES]);
  await writeReport(s2, results([passRun()]));
  const run = async (...argv: string[]) => {
    const program = new Command('reset-bench').exitOverride();
    registerReportCommand(program);
    const out: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'reset-bench', ...argv]);
    } finally {
      process.stdout.write = orig;
    }
    return out.join('');
  };
  const merged = path.join(dir, 'merged');
  const printed = await run('merge', merged, s1, path.join(s2, 'results.json'));
  t.match(printed, /merged\/report\.html/);
  const m = await readResultsJson(merged);
  t.equal(m.runs.length, 2);
  t.match(await readFile(path.join(merged, 'results.tap'), 'utf8'), /^1\.\.2$/m);
  await rm(path.join(merged, 'report.html'));
  await run('report', merged);
  t.match(await readFile(path.join(merged, 'report.html'), 'utf8'), /<svg/);
  await t.rejects(run('merge', path.join(dir, 'm2'), s1, s1), /duplicate run/);
  await writeFile(path.join(dir, 'bad.json'), '{"version":1,"generated_at":"now","tool":{"name":"r","version":"1"},"runs":"x"}');
  const err = await run('report', path.join(dir, 'bad.json')).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof UsageError, 'bad input is a UsageError (exit 2)');
  t.match((err as Error).message, /bad\.json: runs: /);
});
