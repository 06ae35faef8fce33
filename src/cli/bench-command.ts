// reset-bench bench: one scenario run N times on one kernel, one after the other (runs in
// parallel would share the cores and time each other), then each phase's median, min and
// max and its ratio to issue 16's goals. `--from DIR` prints the same table for a results
// directory that exists (no VM).
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { benchRunsFrom } from '../bench/from-results.js';
import { benchRows, formatBenchTable } from '../bench/phase-stats.js';
import { parseKernelChoice, resolveKernel } from '../kernel/resolve.js';
import { logRunDone, logSummary } from '../report/log-lines.js';
import { writeReport } from '../report/write-all.js';
import { runScenario } from '../scenario/runner.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import type { RunResult } from '../scenario/types.js';
import { UsageError } from '../util/errors.js';
import { toolVersion } from '../util/project-root.js';
import { makeContext, stamp } from './context.js';
import { snapshotsDir } from '../vm/snapshot-store.js';
import { exitCodeFor, resolveScenarios } from './run-command.js';
import { parsePositiveInt } from './vm-command.js';

interface BenchOpts {
  kernel: string;
  runs: number;
  results?: string;
  cacheDir?: string;
  from?: string;
}

async function oneScenario(arg: string | undefined): Promise<ScenarioSpec> {
  if (arg === undefined) throw new UsageError('name one scenario (see `reset-bench list`) or a scenario file', 'SCENARIO');
  const specs = await resolveScenarios([arg]);
  if (specs.length !== 1) throw new UsageError(`${arg} holds ${specs.length} scenarios; bench runs one`, 'SCENARIO');
  return specs[0]!;
}

/** Runs the scenario `runs` times in a row and writes the results directory. */
async function runBench(spec: ScenarioSpec, o: BenchOpts): Promise<{ dir: string; runs: RunResult[] }> {
  parseKernelChoice(o.kernel);
  snapshotsDir(o.cacheDir); // a bad RESET_BENCH_SNAPSHOTS is refused before anything is made
  const dir = resolve(o.results ?? join('results', `bench-${stamp()}`));
  await mkdir(dir, { recursive: true });
  const ctx = makeContext({ cacheDir: o.cacheDir, logFile: join(dir, 'reset-bench.log') });
  await resolveKernel(o.kernel, { cache: ctx.cache, progress: ctx.progress });
  const runs: RunResult[] = [];
  for (let iteration = 1; iteration <= o.runs; iteration++) {
    const r = await runScenario(spec, { kernel: o.kernel, resultsDir: dir, iteration, project: ctx.project, cache: ctx.cache, log: ctx.log, progress: ctx.progress });
    logRunDone(ctx.log, r);
    ctx.progress(`[${iteration}/${o.runs}] ${r.verdict} ${r.scenario} [${r.kernel}]: ${(r.duration_ms / 1000).toFixed(1)} s: ${r.reason}`);
    runs.push(r);
  }
  await writeReport(dir, { version: 2, generated_at: new Date().toISOString(), tool: { name: 'reset-bench', version: toolVersion() }, runs });
  logSummary(ctx.log, runs, exitCodeFor(runs), dir);
  return { dir, runs };
}

async function bench(arg: string | undefined, o: BenchOpts): Promise<void> {
  if (o.from !== undefined) {
    const specs = arg === undefined ? [] : [await oneScenario(arg)];
    const runs = await benchRunsFrom(o.from, specs, specs[0]?.name);
    if (runs.length === 0) throw new UsageError(`no runs${arg ? ` of ${arg}` : ''} in it`, o.from);
    process.stdout.write(formatBenchTable(benchRows(runs), runs));
    return;
  }
  const spec = await oneScenario(arg);
  const { dir, runs } = await runBench(spec, o);
  const benchRuns = await benchRunsFrom(dir, [spec]);
  process.stdout.write(`${spec.name} on ${o.kernel}\n${formatBenchTable(benchRows(benchRuns), benchRuns)}results: ${dir}\n`);
  process.exitCode = exitCodeFor(runs);
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description("run one scenario N times in a row and print each phase's median, min, max and its ratio to the speed goals")
    .argument('[scenario]', 'a built-in scenario name or a YAML/JSON file holding one')
    .option('--kernel <kernel>', 'stock, patched, debug (KIND@SERIES for a series) or a directory with bzImage and lib/modules', 'patched')
    .option('--runs <n>', 'how many runs', parsePositiveInt('--runs'), 3)
    .option('--results <dir>', 'results directory (default results/bench-<timestamp>)')
    .option('--cache-dir <dir>', 'kernel cache')
    .option('--from <dir>', "no runs: the table for a results directory's runs (of [scenario] if named)")
    .action((arg: string | undefined, o: BenchOpts) => bench(arg, o));
}
