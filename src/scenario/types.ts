// The shape of results (CONTRACT, ARCHITECTURE.md): results.json version 1.
import { z } from 'zod';

export const Verdict = z.enum(['PASS', 'FAIL', 'ERROR', 'SKIP']);
export type Verdict = z.infer<typeof Verdict>;

export const Metrics = z.object({
  /** Longest gap between I/O completions around the reset (ms); null when no I/O ran. */
  outage_ms: z.number().nullable(),
  /** From the device being back to the first completed I/O (ms); null if I/O never resumed. */
  recovery_ms: z.number().nullable(),
  /** From the device being back to the controller being live again (ms); null if never. */
  ctrl_live_ms: z.number().nullable(),
  io_errors: z.number().int(),
  verify_errors: z.number().int(),
  lost_writes: z.number().int(),
  /** Kernel reports (WARNING, BUG, Oops, KASAN, lockdep, hung task...) on any console. */
  splats: z.number().int(),
});
export type Metrics = z.infer<typeof Metrics>;

/** One point of the I/O rate series; t_ms is relative to the run's time zero. */
export const IoPoint = z.object({ t_ms: z.number(), completions: z.number(), errors: z.number() });
export type IoPoint = z.infer<typeof IoPoint>;

/** A timeline event, on the host VM's clock, relative to the run's time zero. */
export const TimelineEvent = z.object({
  t_ms: z.number(),
  vm: z.string(),
  kind: z.string(),
  key: z.string(),
  value: z.string(),
});
export type TimelineEvent = z.infer<typeof TimelineEvent>;

export const Markers = z.object({
  /** Reset triggered (device gone). */
  device_gone_ms: z.number().nullable(),
  /** Device restored. */
  device_back_ms: z.number().nullable(),
  /** Controller live again after the device came back. */
  ctrl_live_ms: z.number().nullable(),
});
export type Markers = z.infer<typeof Markers>;

export const RunResult = z.object({
  scenario: z.string(),
  kernel: z.string(),
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
  markers: Markers,
  io: z.array(IoPoint),
  events: z.array(TimelineEvent),
  splat_lines: z.array(z.string()),
  /** Paths relative to the results directory. */
  artifacts: z.record(z.string(), z.string()),
  clock: z.object({ method: z.string(), error_bound_ms: z.number() }),
  /** Wall time of each phase of the run that ran (boot, target, connect, ...), ms. */
  phases_ms: z.record(z.string(), z.number()).optional(),
});
export type RunResult = z.infer<typeof RunResult>;

export const Results = z.object({
  version: z.literal(1),
  generated_at: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  runs: z.array(RunResult),
});
export type Results = z.infer<typeof Results>;
