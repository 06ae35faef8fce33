// The shape of results (CONTRACT, docs/architecture.md). Why two shapes: the runner and
// every report work on `RunResult` (the I/O rate as points, easy to compute with), while
// results.json stores the same series as columns (`IoSeries`: t0, interval, counts), which
// is what keeps a run at a few KB instead of ~200 KB. src/report/results-json.ts converts
// at the file boundary and reads version 1 files (points) as well as version 2 (columns).
//
// null, everywhere in a run (metrics, markers), means "never": the event did not happen
// during the run (I/O never resumed, the controller never came back, no reset was made).
import { z } from 'zod';

export const Verdict = z.enum(['PASS', 'FAIL', 'ERROR', 'SKIP']);
export type Verdict = z.infer<typeof Verdict>;

export const Metrics = z.object({
  /** Longest gap between I/O completions around the reset (ms); null: no I/O ran. */
  outage_ms: z.number().nullable(),
  /** From the device being back to the first completed I/O (ms); null: I/O never resumed. */
  recovery_ms: z.number().nullable(),
  /** Duration from the device being back to the controller being live again (ms); null: never. */
  ctrl_live_ms: z.number().nullable(),
  io_errors: z.number().int(),
  verify_errors: z.number().int(),
  lost_writes: z.number().int(),
  /** Kernel reports (WARNING, BUG, Oops, KASAN, lockdep, hung task...) on any console. */
  splats: z.number().int(),
});
export type Metrics = z.infer<typeof Metrics>;

/** One point of the I/O rate series (in memory); t_ms is relative to the run's time zero. */
export const IoPoint = z.object({ t_ms: z.number(), completions: z.number(), errors: z.number() });
export type IoPoint = z.infer<typeof IoPoint>;

/**
 * The I/O rate series as stored in results.json version 2: interval i covers
 * [t0_ms + i * interval_ms, t0_ms + (i + 1) * interval_ms) and completed completions[i]
 * I/Os, errors[i] of them with an error. `errors` is empty when no interval had an
 * error (the usual case), else exactly as long as `completions`.
 */
export const IoSeries = z
  .object({
    t0_ms: z.number(),
    interval_ms: z.number().nonnegative(),
    completions: z.array(z.number().int().nonnegative()),
    errors: z.array(z.number().int().nonnegative()),
  })
  .refine((s) => s.errors.length === 0 || s.errors.length === s.completions.length, {
    message: 'errors must be empty (no errors) or as long as completions',
    path: ['errors'],
  })
  .refine((s) => s.completions.length < 2 || s.interval_ms > 0, { message: 'interval_ms must be > 0 with two or more intervals', path: ['interval_ms'] });
export type IoSeries = z.infer<typeof IoSeries>;

/** A timeline event, on the harness's clock, relative to the run's time zero. */
export const TimelineEvent = z.object({
  t_ms: z.number(),
  vm: z.string(),
  kind: z.string(),
  key: z.string(),
  value: z.string(),
});
export type TimelineEvent = z.infer<typeof TimelineEvent>;

/** Points in time (ms from the run's time zero); null: never happened. */
export const Markers = z.object({
  /** Reset triggered (device gone). */
  device_gone_ms: z.number().nullable(),
  /** Device restored (the last one, with several resets). */
  device_back_ms: z.number().nullable(),
  /** The time the controller was live again after the device came back
   * (a point in time; metrics.ctrl_live_ms is the duration from device_back_ms). */
  ctrl_live_ms: z.number().nullable(),
});
export type Markers = z.infer<typeof Markers>;

/** Exactly which kernel ran: what a dashboard needs to tell one build from another. */
export const KernelInfo = z.object({
  /** Patch series the variant applies (e.g. "6.1"). */
  series: z.string(),
  /** Debian package version of the base kernel (e.g. "6.1.158-1"). */
  package_version: z.string(),
  /** Kernel ABI / release (uname -r, e.g. "6.1.0-41-amd64"). */
  abi: z.string(),
  /** distro, stock, patched, debug or own. */
  variant: z.string(),
  /** kcidb patchset hash: sha256 over the sha256 of each applied patch, in order; "" = none. */
  patchset_hash: z.string().optional(),
  /**
   * The lab patches applied (kernel-patches/<series>/lab: fixes to rdma_rxe, the lab's
   * device), relative to the series directory; stock and patched carry the same ones.
   */
  lab_patches: z.array(z.string()).optional(),
});
export type KernelInfo = z.infer<typeof KernelInfo>;

/**
 * Per-run artifacts (paths relative to the results directory), by name:
 * `console_<vm>` and `kmsg_<vm>` (runs/<run>/<vm>.console.log, <vm>.kmsg.log), `loader`
 * (loader.json: the full-resolution I/O series, errors and the read-back pass), `timeline`
 * (timeline.json), `rdma_resources` (rdma-resources.json), `blocked_tasks`
 * (blocked-tasks.txt: a run that ended at a removal or trigger that never returned),
 * `rxe_counters` (rxe-counters.txt: pair2, the paths failed a run otherwise passed) and,
 * for an ERROR, `error` (error.txt with the console tails).
 * There is no per-run agent log: the agent's messages go to reset-bench.log.
 */
const runFields = {
  scenario: z.string(),
  kernel: z.string(),
  /** Present when the kernel was resolved (absent for an ERROR before that, and in v1 files). */
  kernel_info: KernelInfo.optional(),
  verdict: Verdict,
  reason: z.string(),
  metrics: Metrics,
  topology: z.string(),
  side: z.string(),
  reset: z.string(),
  /** 1-based index within --repeat. */
  iteration: z.number().int().positive(),
  started_at: z.string(),
  duration_ms: z.number(),
  /** Where the run's time went (boot, setup, load, reset, recovery...), ms per phase. */
  phases_ms: z.record(z.string(), z.number()).optional(),
  /**
   * How each VM came up: `cold` (booted), `cold, state saved` (booted, and saved at the
   * snapshot point for later runs) or `snapshot` (started from that saved state).
   */
  vm_boot: z.record(z.string(), z.enum(['cold', 'cold, state saved', 'snapshot'])).optional(),
  markers: Markers,
  events: z.array(TimelineEvent),
  splat_lines: z.array(z.string()),
  artifacts: z.record(z.string(), z.string()),
  clock: z.object({ method: z.string(), error_bound_ms: z.number() }),
  /**
   * The RDMA core's object counts (RDMA_NLDEV_CMD_RES_GET: qp, cq, mr, pd, cm_id...) per
   * VM, summed over its devices, before the reset and after the run. A recovered run
   * with more after than before FAILs.
   */
  rdma_resources: z
    .object({ before: z.record(z.string(), z.record(z.string(), z.number())), after: z.record(z.string(), z.record(z.string(), z.number())) })
    .optional(),
};

/** A run in memory: the runner's output and every report's input. */
export const RunResult = z.object({ ...runFields, io: z.array(IoPoint) });
export type RunResult = z.infer<typeof RunResult>;

const resultsHeader = {
  generated_at: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
};

/** Results in memory (what `run` builds and what reading results.json gives back). */
export const Results = z.object({ version: z.literal(2), ...resultsHeader, runs: z.array(RunResult) });
export type Results = z.infer<typeof Results>;

/** The version results.json is written with. */
export const RESULTS_VERSION = 2;

/** A run as stored in results.json version 2. The key order here is the file's key order. */
export const RunRecordV2 = z.object({
  scenario: runFields.scenario,
  kernel: runFields.kernel,
  kernel_info: runFields.kernel_info,
  verdict: runFields.verdict,
  reason: runFields.reason,
  metrics: runFields.metrics,
  topology: runFields.topology,
  side: runFields.side,
  reset: runFields.reset,
  iteration: runFields.iteration,
  started_at: runFields.started_at,
  duration_ms: runFields.duration_ms,
  phases_ms: runFields.phases_ms,
  vm_boot: runFields.vm_boot,
  markers: runFields.markers,
  io: IoSeries,
  events: runFields.events,
  splat_lines: runFields.splat_lines,
  artifacts: runFields.artifacts,
  clock: runFields.clock,
});
export type RunRecordV2 = z.infer<typeof RunRecordV2>;

export const ResultsFileV2 = z.object({ version: z.literal(2), ...resultsHeader, runs: z.array(RunRecordV2) });
export type ResultsFileV2 = z.infer<typeof ResultsFileV2>;

/** results.json version 1 (io as one object per point); still read by `report` and `merge`. */
export const ResultsFileV1 = z.object({ version: z.literal(1), ...resultsHeader, runs: z.array(z.object({ ...runFields, io: z.array(IoPoint) })) });
export type ResultsFileV1 = z.infer<typeof ResultsFileV1>;
