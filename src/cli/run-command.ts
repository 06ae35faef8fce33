// reset-bench run | compare | list: scenarios on kernels, results for CI and people.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { pickSeries, pinsFile, readPins } from '../kernel/pins.js';
import { parseKernelChoice, resolveKernel } from '../kernel/resolve.js';
import { projectRoot, toolVersion } from '../util/project-root.js';
import { writeReport } from '../report/write-all.js';
import { checkOrigin } from '../report/kcidb.js';
import { logRunDone, logSummary } from '../report/log-lines.js';
import { resultsToJson } from '../report/results-json.js';
import { buildComparison, formatComparison } from '../report/stats.js';
import { CATALOG, DEFAULT_SUITE, findScenario } from '../scenario/catalog.js';
import { loadScenarioFile, type ScenarioSpec } from '../scenario/spec.js';
import { runScenario } from '../scenario/runner.js';
import type { Results, RunResult } from '../scenario/types.js';
import { UsageError } from '../util/errors.js';
import { makeContext, stamp } from './context.js';
import { snapshotsDir } from '../vm/snapshot-store.js';
import { parsePositiveInt } from './vm-command.js';

export interface PlannedRun {
  scenario: ScenarioSpec;
  kernel: string;
  iteration: number;
}

/** "I/N" -> [I, N] with 1 <= I <= N. */
export function parseShard(v: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || i < 1 || n < 1 || i > n) throw new UsageError(`must be I/N with 1 <= I <= N, e.g. 2/4; got ${JSON.stringify(v)}`, '--shard');
  return [i, n];
}

/** Every (scenario, kernel, iteration), kernels inner so a comparison stays together; then this shard's share. */
export function planRuns(scenarios: ScenarioSpec[], kernels: string[], repeat: number, shard?: [number, number]): PlannedRun[] {
  const all: PlannedRun[] = [];
  for (const scenario of scenarios)
    for (let iteration = 1; iteration <= repeat; iteration++)
      for (const kernel of kernels) all.push({ scenario, kernel, iteration });
  if (!shard) return all;
  const [i, n] = shard;
  return all.filter((_, k) => k % n === i - 1);
}

/** Names from the catalog, or paths of YAML/JSON scenario files. */
export async function resolveScenarios(args: string[]): Promise<ScenarioSpec[]> {
  if (args.length === 0) return DEFAULT_SUITE.map(findScenario);
  const out: ScenarioSpec[] = [];
  for (const a of args) {
    if (/\.(ya?ml|json)$/.test(a) || existsSync(a)) out.push(...(await loadScenarioFile(a)));
    else out.push(findScenario(a));
  }
  return out;
}

/** 3 if any ERROR, else 1 if any FAIL among the runs that count, else 0. */
export function exitCodeFor(runs: RunResult[], counts: (r: RunResult) => boolean = () => true): number {
  if (runs.some((r) => r.verdict === 'ERROR')) return 3;
  if (runs.some((r) => r.verdict === 'FAIL' && counts(r))) return 1;
  return 0;
}

/**
 * How many runs may go in parallel: each VM is one TCG thread, so the VMs of the
 * parallel runs must fit the machine's cores, or they starve each other and the
 * timings (and the kernels' timeouts) stop meaning anything.
 */
export function jobsWithinCores(requested: number, vmsPerRun: number, cores: number): { jobs: number; note?: string } {
  const fit = Math.max(1, Math.floor(cores / Math.max(1, vmsPerRun)));
  if (requested <= fit) return { jobs: requested };
  return {
    jobs: fit,
    note: `--jobs ${requested} would run ${requested * vmsPerRun} VMs on ${cores} core(s); running ${fit} at a time`,
  };
}

async function pool<T, R>(items: T[], jobs: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return out;
}

interface RunOpts {
  kernel?: string;
  repeat: number;
  results?: string;
  jobs: number;
  shard?: string;
  json?: boolean;
  cacheDir?: string;
  kcidbOrigin?: string;
}

async function execute(args: string[], kernels: string[], o: RunOpts, compare: boolean): Promise<void> {
  const shard = o.shard ? parseShard(o.shard) : undefined;
  const kcidbOrigin = o.kcidbOrigin === undefined ? undefined : checkOrigin(o.kcidbOrigin);
  const scenarios = await resolveScenarios(args);
  const plan = planRuns(scenarios, kernels, o.repeat, shard);
  for (const k of kernels) parseKernelChoice(k); // a bad KIND@SERIES is refused before anything is made
  snapshotsDir(o.cacheDir); // and a bad RESET_BENCH_SNAPSHOTS
  const resultsDir = resolve(o.results ?? join('results', stamp()));
  await mkdir(resultsDir, { recursive: true });
  const ctx = makeContext({ cacheDir: o.cacheDir, logFile: join(resultsDir, 'reset-bench.log'), quiet: o.json });
  ctx.log.info({ plan: plan.map((p) => `${p.scenario.name}/${p.kernel}#${p.iteration}`) }, 'plan');
  for (const k of kernels) await resolveKernel(k, { cache: ctx.cache, progress: ctx.progress });
  const vmsPerRun = Math.max(1, ...plan.map((p) => (p.scenario.topology === 'pair' ? 2 : 1)));
  const { jobs, note } = jobsWithinCores(o.jobs, vmsPerRun, availableParallelism());
  if (note) ctx.progress(note);
  let done = 0;
  const runs = await pool(plan, jobs, async (p) => {
    const r = await runScenario(p.scenario, {
      kernel: p.kernel,
      resultsDir,
      iteration: p.iteration,
      project: ctx.project,
      cache: ctx.cache,
      log: ctx.log,
      progress: ctx.progress,
    });
    done++;
    logRunDone(ctx.log, r);
    ctx.progress(`[${done}/${plan.length}] ${r.verdict} ${r.scenario} [${r.kernel}] #${r.iteration}: ${r.reason}`);
    return r;
  });
  const results: Results = {
    version: 2,
    generated_at: new Date().toISOString(),
    tool: { name: 'reset-bench', version: toolVersion() },
    runs,
  };
  const written = await writeReport(resultsDir, results, { kcidbOrigin });
  if (o.json) process.stdout.write(resultsToJson(results));
  else {
    if (compare) for (const [series, group] of bySeries(runs)) process.stdout.write(`${series ? `${series}:\n` : ''}${formatComparison(buildComparison(group))}\n`);
    for (const r of runs) process.stdout.write(`${r.verdict.padEnd(5)} ${r.scenario} [${r.kernel}] #${r.iteration}: ${r.reason}\n`);
    process.stdout.write(`results: ${resultsDir} (${written.files.length} files; open report.html)\n`);
  }
  // compare: stock (and distro) are expected to fail; the patched kernel must pass everything.
  process.exitCode = exitCodeFor(runs, compare ? (r) => !isBaseline(r.kernel) : undefined);
  logSummary(ctx.log, runs, process.exitCode, resultsDir);
}

/** A kernel that stands for the unpatched drivers: its FAILs are the finding, not a failure. */
export function isBaseline(kernel: string): boolean {
  const kind = parseKernelChoice(kernel)?.kind;
  return kind === 'stock' || kind === 'distro';
}

/** The kernels `compare` runs: stock and patched of each series (plain labels for the default). */
export async function compareKernels(list: string | undefined): Promise<string[]> {
  if (list === undefined) return ['stock', 'patched'];
  const pins = await readPins(pinsFile(projectRoot()));
  const series = list.split(',').map((s) => s.trim());
  if (series.some((s) => !s)) throw new UsageError(`expected series like 6.1,6.12, got ${JSON.stringify(list)}`, '--series');
  return [...new Set(series)].flatMap((s) => {
    pickSeries(pins, s);
    return [`stock@${s}`, `patched@${s}`];
  });
}

/** Runs grouped by the series in their kernel label ("patched@6.12" -> "6.12"; "" when none is named). */
export function bySeries(runs: RunResult[]): Map<string, RunResult[]> {
  const out = new Map<string, RunResult[]>();
  for (const r of runs) {
    const s = parseKernelChoice(r.kernel)?.series ?? '';
    out.set(s, [...(out.get(s) ?? []), r]);
  }
  return out;
}

const common = (c: Command): Command =>
  c
    .argument('[scenario...]', 'built-in scenario names (see `list`) or YAML/JSON scenario files')
    .option('--repeat <n>', 'run each scenario N times', parsePositiveInt('--repeat'), 1)
    .option('--results <dir>', 'results directory (default results/<timestamp>)')
    .option('--jobs <n>', 'runs in parallel, capped so the VMs fit the cores (a pair run takes two)', parsePositiveInt('--jobs'), 1)
    .option('--shard <i/n>', 'run only shard I of N (for CI matrices; merge with `reset-bench merge`)')
    .option('--json', 'print results.json to stdout')
    .option('--cache-dir <dir>', 'kernel cache')
    .option('--kcidb-origin <origin>', 'KCIDB origin of kcidb.json ([a-z0-9_]+; default reset_bench)');

export function registerRunCommands(program: Command): void {
  common(program.command('run'))
    .description('run scenarios on one kernel')
    .option('--kernel <kernel>', 'stock, patched, debug (KIND@SERIES for a series, e.g. stock@6.12) or a directory with bzImage and lib/modules', 'patched')
    .action((args: string[], o: RunOpts) => execute(args, [o.kernel ?? 'patched'], o, false));
  common(program.command('compare'))
    .description('run scenarios on stock and patched, side by side, per series (exit 0 when patched passes everything)')
    .option('--series <list>', 'kernel series to compare on, comma-separated (e.g. 6.1,6.12; default: the default series)')
    .action(async (args: string[], o: RunOpts & { series?: string }) => execute(args, await compareKernels(o.series), o, true));
  program
    .command('list')
    .description('built-in scenarios, one per line')
    .action(() => {
      for (const s of CATALOG) process.stdout.write(`${s.name}\t${s.topology}\t${s.description}\n`);
    });
}
