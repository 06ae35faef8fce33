// From the loader's record and the timeline to the CONTRACT metrics. Pure functions on
// numbers already on the run's clock (ms from the run's time zero), so they are tested
// without a VM.
import type { IoPoint, Metrics, TimelineEvent } from './types.js';

export interface ResetWindow {
  goneMs: number;
  backMs: number;
  /** How long the trigger itself took (the device going away), ms. */
  triggerMs?: number;
}

export interface GapMs {
  startMs: number;
  endMs: number;
  open: boolean;
}

export interface MetricInputs {
  io: IoPoint[];
  gaps: GapMs[];
  resets: ResetWindow[];
  /** Host-VM timeline (controller states). */
  events: TimelineEvent[];
  controller: string;
  endMs: number;
  ioErrors: number;
  verifyErrors: number;
  lostWrites: number;
  splats: number;
}

/** The controller's state samples in time order: [t, state]. */
export function controllerStates(events: TimelineEvent[], controller: string): [number, string][] {
  return events
    .filter((e) => e.kind === 'state' && e.key === `nvme/${controller}`)
    .sort((a, b) => a.t_ms - b.t_ms)
    .map((e) => [e.t_ms, e.value]);
}

/** First time at or after `from` when the controller was in `state`, or null. */
export function firstState(states: [number, string][], state: string, from: number): number | null {
  if (stateAt(states, from) === state) return from;
  for (const [t, st] of states) if (t > from && st === state) return t;
  return null;
}

/** The controller state in force at time t (the last sample at or before it). */
export function stateAt(states: [number, string][], t: number): string | undefined {
  let current: string | undefined;
  for (const [ts, s] of states) {
    if (ts > t) break;
    current = s;
  }
  return current;
}

/** First interval with a completed I/O starting at or after `from`; null if none. */
export function firstCompletionAfter(io: IoPoint[], from: number): number | null {
  for (const p of io) if (p.t_ms >= from && p.completions > 0) return p.t_ms;
  return null;
}

/** Longest gap between completions that touches the reset windows (open gaps run to the end). */
export function outageMs(gaps: GapMs[], resets: ResetWindow[], endMs: number): number | null {
  if (resets.length === 0) return null;
  const from = Math.min(...resets.map((r) => r.goneMs)) - 1000;
  let worst = 0;
  for (const g of gaps) {
    const end = g.open ? endMs : g.endMs;
    if (end < from) continue;
    worst = Math.max(worst, end - g.startMs);
  }
  return Math.round(worst);
}

export function computeMetrics(m: MetricInputs): Metrics {
  const states = controllerStates(m.events, m.controller);
  let recovery: number | null = 0;
  let live: number | null = 0;
  for (const r of m.resets) {
    const c = firstCompletionAfter(m.io, r.backMs);
    recovery = recovery === null || c === null ? null : Math.max(recovery, c - r.backMs);
    // The host may notice a target-side reset only after the device is back (keep-alive):
    // count from when the controller left live, if that came after the device was back.
    const left = states.find(([ts, st]) => ts >= r.goneMs && st !== 'live')?.[0];
    const l = firstState(states, 'live', left !== undefined && left > r.backMs ? left : r.backMs);
    live = live === null || l === null ? null : Math.max(live, l - r.backMs);
  }
  if (m.resets.length === 0) {
    recovery = null;
    live = null;
  }
  return {
    outage_ms: m.io.length ? outageMs(m.gaps, m.resets, m.endMs) : null,
    recovery_ms: recovery === null ? null : Math.round(recovery),
    ctrl_live_ms: live === null ? null : Math.round(live),
    io_errors: m.ioErrors,
    verify_errors: m.verifyErrors,
    lost_writes: m.lostWrites,
    splats: m.splats,
  };
}

/**
 * I/O errors as the verdict counts them. An EAGAIN completion is the kernel saying "not
 * done, submit again" (io_uring cannot always reissue a REQ_NOWAIT bio that hit a frozen
 * queue, so 6.1 hands it back); the loader resubmits it and the verify pass proves
 * nothing was lost, so it is a retry, not an error. Only what the records show is
 * discounted: errors beyond the record limit all count.
 */
export function countIoErrors(ioErrors: number, records: { code: string; phase: string }[]): { errors: number; eagain: number } {
  const eagain = records.filter((r) => r.phase === 'run' && r.code === 'EAGAIN').length;
  return { errors: Math.max(0, ioErrors - eagain), eagain };
}
