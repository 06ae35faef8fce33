// `reset-bench load`: the loader on its own, fio-like options and summary; `load bench`.
import type { Command } from 'commander';
import type { BenchRw } from '../load/bench.js';
import { parseJobOption } from '../load/job-doc.js';
import { runJob, runLoad, resultToJson, verifyTarget, type LoadResult, type Progress, type StartOptions } from '../load/run.js';
import { parseDurationMs, parseSize, RW_MODES, type JobSpec, type JobSpecInput } from '../load/spec.js';
import { formatSummary } from '../load/summary.js';
import { progressFileWriter } from '../load/progress-file.js';
import { loadState, saveState } from '../load/verify.js';
import { errorMessage, exitCodeOf, UsageError } from '../util/errors.js';

/** Spec field -> the option that sets it (for error messages). */
export const OPTION_OF_FIELD: Record<string, string> = {
  filename: '--filename',
  rw: '--rw',
  bs: '--bs',
  iodepth: '--iodepth',
  verifyIodepth: '--verify-iodepth',
  verifyMaxGap: '--verify-max-gap',
  size: '--size',
  offset: '--offset',
  runtimeMs: '--runtime',
  rwmixread: '--rwmixread',
  rateIops: '--rate-iops',
  seed: '--seed',
  ios: '--number-ios',
  intervalMs: '--interval',
  gapThresholdMs: '--gap-threshold',
  retryBackoffMs: '--retry-backoff',
  maxRetries: '--max-retries',
  drainTimeoutMs: '--drain-timeout',
  stopDrainTimeoutMs: '--stop-drain-timeout',
  direct: '--direct',
  state: '--state',
  verify: '--verify',
};

export interface LoadCliOptions {
  filename?: string;
  rw?: string;
  bs?: string;
  iodepth?: string;
  verifyIodepth?: string;
  verifyMaxGap?: string;
  size?: string;
  offset?: string;
  runtime?: string;
  rwmixread?: string;
  rateIops?: string;
  seed?: string;
  numberIos?: string;
  verify?: string | boolean;
  direct?: string;
  interval?: string;
  gapThreshold?: string;
  retryBackoff?: string;
  maxRetries?: string;
  drainTimeout?: string;
  stopDrainTimeout?: string;
  state?: string;
  /** the whole job as one JSON document (the form the scenario runner gives op load.run) */
  job?: string;
  saveState?: string;
  verifyOnly?: boolean;
  json?: boolean;
  /** with json: on one line (what op load.run answers: a third of the bytes through the agent) */
  compact?: boolean;
  progress?: boolean;
  progressFile?: string;
}

function int(v: string | undefined, opt: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`expected a non-negative integer, got '${v}'`, opt);
  return Number(v);
}
function num(v: string | undefined, opt: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`expected a non-negative number, got '${v}'`, opt);
  return n;
}
function sizeOpt(v: string | undefined, opt: string): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseSize(v);
  } catch (e) {
    throw new UsageError(errorMessage(e), opt);
  }
}
/** fio-style duration: a bare number is seconds; suffixes ms, s, m, h. */
function durOpt(v: string | undefined, opt: string, bareUnitMs = 1000): number | undefined {
  if (v === undefined) return undefined;
  try {
    return /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) * bareUnitMs : parseDurationMs(v);
  } catch (e) {
    throw new UsageError(errorMessage(e), opt);
  }
}
function boolOpt(v: string | boolean | undefined, opt: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  const s = v.toLowerCase();
  if (['1', 'true', 'yes', 'on', 'crc', 'xxhash', 'header', 'meta'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', 'none'].includes(s)) return false;
  throw new UsageError(`expected 0 or 1, got '${v}'`, opt);
}

/** CLI options -> job spec input (throws UsageError naming the option). */
export function specFromCli(o: LoadCliOptions): JobSpecInput {
  if (!o.filename) throw new UsageError('a file or block device is required', '--filename');
  if (o.rw !== undefined && !(RW_MODES as readonly string[]).includes(o.rw))
    throw new UsageError(`expected one of ${RW_MODES.join('|')}, got '${o.rw}'`, '--rw');
  const spec: JobSpecInput = { filename: o.filename };
  const set = <K extends keyof JobSpecInput>(k: K, v: JobSpecInput[K] | undefined): void => {
    if (v !== undefined) spec[k] = v;
  };
  set('rw', o.rw as JobSpecInput['rw']);
  set('bs', sizeOpt(o.bs, '--bs'));
  set('iodepth', int(o.iodepth, '--iodepth'));
  set('verifyIodepth', int(o.verifyIodepth, '--verify-iodepth'));
  set('verifyMaxGap', int(o.verifyMaxGap, '--verify-max-gap'));
  set('size', sizeOpt(o.size, '--size'));
  set('offset', sizeOpt(o.offset, '--offset'));
  set('runtimeMs', durOpt(o.runtime, '--runtime'));
  set('rwmixread', int(o.rwmixread, '--rwmixread'));
  set('rateIops', num(o.rateIops, '--rate-iops'));
  set('seed', int(o.seed, '--seed'));
  set('ios', int(o.numberIos, '--number-ios'));
  set('verify', boolOpt(o.verify, '--verify'));
  set('direct', boolOpt(o.direct, '--direct'));
  set('intervalMs', durOpt(o.interval, '--interval', 1));
  set('gapThresholdMs', durOpt(o.gapThreshold, '--gap-threshold', 1));
  set('retryBackoffMs', durOpt(o.retryBackoff, '--retry-backoff', 1));
  set('maxRetries', int(o.maxRetries, '--max-retries'));
  set('drainTimeoutMs', durOpt(o.drainTimeout, '--drain-timeout', 1));
  set('stopDrainTimeoutMs', durOpt(o.stopDrainTimeout, '--stop-drain-timeout', 1));
  return spec;
}

/** The options a --job document replaces. */
const JOB_OPTIONS = ['filename', 'rw', 'bs', 'iodepth', 'verifyIodepth', 'verifyMaxGap', 'size', 'offset', 'runtime', 'rwmixread', 'rateIops', 'seed', 'numberIos', 'verify', 'direct', 'interval', 'gapThreshold', 'retryBackoff', 'maxRetries', 'drainTimeout', 'stopDrainTimeout'] as const;

/** loadState, its UsageError ("state: ...") re-addressed to --state. */
async function readStateOption(path: string): Promise<Buffer> {
  return loadState(path).catch((e: unknown) => {
    throw new UsageError(e instanceof UsageError && e.field ? e.message.slice(e.field.length + 2) : errorMessage(e), '--state');
  });
}

/** The job of `--job DOC [--state FILE]`, checked once; UsageError "--job: <field>: ...". */
async function jobFromDocument(o: LoadCliOptions, doc: string): Promise<JobSpec> {
  const clash = JOB_OPTIONS.find((k) => o[k] !== undefined);
  if (clash) throw new UsageError(`the document carries the whole job: give no --${clash.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} with it`, '--job');
  const state = o.state ? await readStateOption(o.state) : undefined;
  return parseJobOption(doc, state);
}

/** Renames a spec field in a UsageError to the CLI option. */
function asCliError(e: unknown): unknown {
  if (e instanceof UsageError && e.field && OPTION_OF_FIELD[e.field] && !e.field.startsWith('--')) {
    const opt = OPTION_OF_FIELD[e.field]!;
    return new UsageError(e.message.slice(e.field.length + 2), opt);
  }
  return e;
}

function fail(e: unknown): void {
  const err = asCliError(e);
  process.stderr.write(`reset-bench load: ${errorMessage(err)}\n`);
  process.exitCode = exitCodeOf(err);
}

function progressPrinter(enabled: boolean): ((p: { elapsedNs: number; iops: number; errors: number; mismatches: number; phase: string }) => void) | undefined {
  if (!enabled) return undefined;
  return (p) => {
    process.stderr.write(
      `\r[${p.phase} ${(p.elapsedNs / 1e9).toFixed(1)}s] iops=${p.iops.toFixed(0)} errors=${p.errors} verify_errors=${p.mismatches}   `,
    );
  };
}

/**
 * After this long, the job's I/O under way, process.stdout and process.stderr are made:
 * a pipe's stream is built on first use (node's net and stream modules), 11 ms on the
 * host and about 100 ms under TCG, which would otherwise come between the final pass
 * and whoever reads the JSON (a command run in a guest by hand; the scenario runner's
 * job runs in the agent, op load.run, and answers without stdout).
 */
export const STDIO_WARM_AFTER_MS = 500;

/** The job the options ask for, run to its end. */
async function runSelected(o: LoadCliOptions, opts: StartOptions): Promise<LoadResult> {
  if (o.verifyOnly) {
    if (!o.filename) throw new UsageError('a file or block device is required', '--filename');
    if (!o.state) throw new UsageError('--verify-only needs the state file of the job that wrote the target', '--state');
    const state = await readStateOption(o.state);
    return verifyTarget({
      filename: o.filename,
      state,
      // the pass is the whole job: its reads in flight are --verify-iodepth, else --iodepth
      iodepth: int(o.verifyIodepth, '--verify-iodepth') ?? int(o.iodepth, '--iodepth'),
      verifyMaxGap: int(o.verifyMaxGap, '--verify-max-gap'),
      direct: boolOpt(o.direct, '--direct'),
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
  }
  if (o.job !== undefined) return runJob(await jobFromDocument(o, o.job), opts);
  const spec = specFromCli(o);
  if (o.state) spec.state = await readStateOption(o.state);
  return runLoad(spec, opts);
}

/**
 * The results on stdout, and the state file (--save-state) written meanwhile: its
 * create waits on the file system (under TCG on a guest's overlay, 30-240 ms), and
 * whoever reads the JSON needs only stdout. A failed save still fails the command.
 */
async function report(o: LoadCliOptions, r: LoadResult): Promise<void> {
  const saved = o.saveState && r.state ? saveState(o.saveState, r.state) : undefined;
  try {
    const txt = o.json ? resultToJson(r, o.compact ? 0 : 2) + '\n' : formatSummary(r) + '\n';
    process.stdout.write(txt);
  } finally {
    await saved;
  }
}

export async function loadAction(o: LoadCliOptions): Promise<void> {
  try {
    const ctl = new AbortController();
    const onSig = (): void => ctl.abort();
    process.once('SIGINT', onSig);
    // SIGUSR2: end the I/O now but still read back every acknowledged write in this
    // process (what the scenario runner does once the controller is back).
    const finish = new AbortController();
    const onFinish = (): void => finish.abort();
    process.once('SIGUSR2', onFinish);
    const printer = progressPrinter(o.progress ?? (!o.json && process.stderr.isTTY === true));
    // the control file's signal acted on here, not sent to this process and back
    const toFile = o.progressFile ? progressFileWriter(o.progressFile, (s) => (s === 'SIGUSR2' ? onFinish : onSig)()) : undefined;
    const progress =
      printer && toFile ? (p: Progress): void => (printer(p), toFile(p)) : (printer ?? toFile);
    const warm = setTimeout(() => void (process.stdout.writable && process.stderr.writable), STDIO_WARM_AFTER_MS).unref();
    let r: LoadResult;
    try {
      r = await runSelected(o, { onProgress: progress, signal: ctl.signal, finishSignal: finish.signal });
    } finally {
      clearTimeout(warm);
      process.removeListener('SIGINT', onSig);
      process.removeListener('SIGUSR2', onFinish);
      toFile?.close();
      if (printer) process.stderr.write('\n');
    }
    await report(o, r);
    process.exitCode = r.verify.errors > 0 ? 1 : 0;
  } catch (e) {
    fail(e);
  }
}

interface BenchCliOptions {
  filename?: string;
  bs?: string;
  iodepth?: string;
  runtime?: string;
  size?: string;
  repeats?: string;
  rw?: string;
  direct?: string;
  fioArgs?: string;
  loaderVerify?: boolean;
  json?: boolean;
}

async function benchAction(o: BenchCliOptions): Promise<void> {
  try {
    // Imported here, not at the top: the benchmark needs zod, and `load` run in a TCG
    // guest must not pay for it (its 95 files took seconds there).
    const { formatBench, runLoaderBench } = await import('../load/bench.js');
    const cases = (o.rw ?? 'randread,randwrite').split(',').map((s) => s.trim());
    for (const c of cases)
      if (c !== 'randread' && c !== 'randwrite') throw new UsageError(`expected randread and/or randwrite, got '${c}'`, '--rw');
    const r = await runLoaderBench({
      filename: o.filename ?? '/var/tmp/reset-bench-loader-bench.dat',
      bs: sizeOpt(o.bs, '--bs'),
      iodepth: int(o.iodepth, '--iodepth'),
      runtimeMs: durOpt(o.runtime, '--runtime'),
      size: sizeOpt(o.size, '--size'),
      repeats: int(o.repeats, '--repeats'),
      cases: cases as BenchRw[],
      direct: boolOpt(o.direct, '--direct'),
      fioArgs: o.fioArgs ? o.fioArgs.split(/\s+/).filter(Boolean) : undefined,
      loaderVerify: o.loaderVerify ?? false,
      log: (l) => process.stderr.write(l + '\n'),
    });
    if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    process.stdout.write(formatBench(r).join('\n') + '\n');
    process.exitCode = 0;
  } catch (e) {
    fail(e);
  }
}

/** Adds `reset-bench load [options]` and `reset-bench load bench [options]`. */
export function registerLoadCommand(program: Command): void {
  const usageExit = (err: { code: string; exitCode: number }): never => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')
      process.exit(0);
    process.exit(2); // commander already printed the message naming the option
  };
  const load = program
    .command('load')
    .description('run the verifying io_uring loader on its own (fio-like options)')
    .option('--filename <path>', 'file or block device')
    // validated in specFromCli (not with .choices: `load bench --rw a,b` passes through here)
    .option('--rw <mode>', `I/O pattern: ${RW_MODES.join('|')}`)
    .option('--bs <size>', 'block size (e.g. 4k)')
    .option('--iodepth <n>', 'I/Os in flight')
    .option('--verify-iodepth <n>', 'reads in flight in the final verify pass (default: --iodepth)')
    .option('--verify-max-gap <blocks>', 'unrecorded blocks one read of the final pass may span between written ones (default 0: it reads exactly the written blocks)')
    .option('--size <size>', 'bytes from --offset (default: to the end; files are created)')
    .option('--offset <size>', 'start of the range')
    .option('--runtime <time>', 'stop after this long (bare number: seconds, or 500ms, 10s, 2m)')
    .option('--number-ios <n>', 'stop after this many I/Os')
    .option('--rwmixread <pct>', 'read percentage for randrw')
    .option('--rate-iops <n>', 'rate limit in I/Os per second')
    .option('--seed <n>', 'seed for offsets and payloads')
    .option('--verify [0|1]', 'write headers and checkable payloads, check reads, final verify pass')
    .option('--direct <0|1>', 'O_DIRECT (default 1; falls back to buffered where unsupported)')
    .option('--interval <ms>', 'timeline interval (ms)')
    .option('--gap-threshold <ms>', 'list gaps between completions at least this long (ms)')
    .option('--retry-backoff <ms>', 'back-off before resubmitting a failed I/O (ms)')
    .option('--max-retries <n>', 'retries per I/O (default: unlimited)')
    .option('--drain-timeout <ms>', 'at the end, wait this long for in-flight I/O (default 60000)')
    .option('--stop-drain-timeout <ms>', 'the same wait when the job is stopped (SIGINT: no final verify pass; default: --drain-timeout)')
    .option('--job <json>', 'the whole job as one JSON document (JobSpec fields: bs, runtimeMs, ...); no other job options with it')
    .option('--state <file>', 'verify state of an earlier job (continue it, or with --verify-only check it)')
    .option('--save-state <file>', 'save the verify state for a later --verify-only pass')
    .option('--verify-only', 'only run the final verify pass (needs --state)')
    .option('--progress', 'print progress on stderr (default when stderr is a TTY)')
    .option('--progress-file <file>', 'keep "<completed> <errors> <monotonic ns>" in FILE, updated on every progress tick')
    .option('--json', 'print the results as JSON')
    .option('--compact', 'with --json: the JSON on one line, no indentation')
    .exitOverride(usageExit)
    .action(loadAction);
  load
    .command('bench')
    .description('compare the loader with fio --ioengine=io_uring (last line: ratio_min=<x>)')
    .option('--filename <path>', 'target (default: a 1 GiB file in /var/tmp)')
    .option('--bs <size>', 'block size (default 4k)')
    .option('--iodepth <n>', 'I/Os in flight (default 32)')
    .option('--runtime <time>', 'per run (bare number: seconds; default 10)')
    .option('--size <size>', 'bytes of the target used (files: default 1g)')
    .option('--repeats <n>', 'alternating runs per tool and case (default 2)')
    .option('--rw <cases>', 'randread,randwrite')
    .option('--direct <0|1>', 'O_DIRECT for both tools (default 1)')
    .option('--fio-args <args>', "extra fio options, e.g. '--fixedbufs=1 --registerfiles=1'")
    .option('--loader-verify', 'run the loader with verify on (measures the cost of verification)')
    .option('--json', 'also print the full comparison as JSON')
    .exitOverride(usageExit)
    // `load` has options of the same names and may have parsed them: merge both levels
    .action((_opts: BenchCliOptions, cmd: Command) => benchAction(cmd.optsWithGlobals<BenchCliOptions>()));
}
