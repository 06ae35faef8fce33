// Timeline math: fixed intervals, percentiles, gaps between completions. All times are
// CLOCK_MONOTONIC nanoseconds (the same clock the agent stamps its events with).
import { nearestRank } from '../util/percentile.js';

export interface TimelineRow {
  /** interval start, CLOCK_MONOTONIC ns */
  tNs: number;
  /** ms since the job started */
  tMs: number;
  reads: number;
  writes: number;
  errors: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
}

export interface Gap {
  startNs: number;
  endNs: number;
  ns: number;
  /** no completion came before the job ended */
  open: boolean;
}

export interface ColumnarTimeline {
  startNs: number;
  intervalNs: number;
  reads: ArrayLike<number>;
  writes: ArrayLike<number>;
  errors: ArrayLike<number>;
  p50Ns: ArrayLike<number>;
  p99Ns: ArrayLike<number>;
  maxNs: ArrayLike<number>;
}

/** Rows (one per interval) from the engine's columnar timeline. */
export function timelineRows(t: ColumnarTimeline): TimelineRow[] {
  const rows: TimelineRow[] = [];
  for (let i = 0; i < t.reads.length; i++) {
    const tNs = t.startNs + i * t.intervalNs;
    rows.push({
      tNs,
      tMs: (i * t.intervalNs) / 1e6,
      reads: t.reads[i]!,
      writes: t.writes[i]!,
      errors: t.errors[i]!,
      p50Ns: t.p50Ns[i]!,
      p99Ns: t.p99Ns[i]!,
      maxNs: t.maxNs[i]!,
    });
  }
  return rows;
}

/** Nearest-rank percentile (p in 0..100) of the values; 0 for none. Does not modify `values`. */
export function percentile(values: readonly number[], p: number): number {
  return nearestRank([...values].sort((a, b) => a - b), p) ?? 0;
}

export interface CompletionEvent {
  tNs: number;
  latNs: number;
  op: 'read' | 'write';
  ok: boolean;
}

/**
 * Reference bucketing (what the engine does in C++): interval k holds events with
 * startNs + k*intervalNs <= t < startNs + (k+1)*intervalNs; intervals run up to endNs.
 * Percentiles are nearest-rank over successful completions only.
 */
export function bucketize(events: readonly CompletionEvent[], startNs: number, intervalNs: number, endNs: number): TimelineRow[] {
  const n = Math.max(1, Math.ceil((endNs - startNs) / intervalNs));
  const lats: number[][] = Array.from({ length: n }, () => []);
  const rows: TimelineRow[] = Array.from({ length: n }, (_, i) => ({
    tNs: startNs + i * intervalNs,
    tMs: (i * intervalNs) / 1e6,
    reads: 0,
    writes: 0,
    errors: 0,
    p50Ns: 0,
    p99Ns: 0,
    maxNs: 0,
  }));
  for (const e of events) {
    if (e.tNs < startNs || e.tNs >= startNs + n * intervalNs) continue;
    const k = Math.floor((e.tNs - startNs) / intervalNs);
    const r = rows[k]!;
    if (!e.ok) {
      r.errors++;
      continue;
    }
    if (e.op === 'read') r.reads++;
    else r.writes++;
    lats[k]!.push(e.latNs);
  }
  rows.forEach((r, k) => {
    const l = lats[k]!;
    r.p50Ns = percentile(l, 50);
    r.p99Ns = percentile(l, 99);
    r.maxNs = l.length ? Math.max(...l) : 0;
  });
  return rows;
}

/**
 * Gaps between consecutive completion times at least thresholdNs long (the engine's rule).
 * With endNs, a trailing gap from the last completion to endNs is reported as open.
 */
export function gapsAbove(completionNs: readonly number[], thresholdNs: number, endNs?: number): Gap[] {
  const t = [...completionNs].sort((a, b) => a - b);
  const gaps: Gap[] = [];
  for (let i = 1; i < t.length; i++) {
    const d = t[i]! - t[i - 1]!;
    if (d >= thresholdNs) gaps.push({ startNs: t[i - 1]!, endNs: t[i]!, ns: d, open: false });
  }
  const last = t[t.length - 1];
  if (endNs !== undefined && last !== undefined && endNs - last >= thresholdNs)
    gaps.push({ startNs: last, endNs, ns: endNs - last, open: true });
  return gaps;
}

/** The longest gap overlapping [fromNs, toNs] (whole job when omitted), or undefined. */
export function longestGap(gaps: readonly Gap[], fromNs = -Infinity, toNs = Infinity): Gap | undefined {
  let best: Gap | undefined;
  for (const g of gaps) {
    if (g.endNs < fromNs || g.startNs > toNs) continue;
    if (!best || g.ns > best.ns) best = g;
  }
  return best;
}

/**
 * Time from tNs (e.g. the device being back) to the first completion after it.
 * Exact when tNs falls in a listed gap (the gap's end is that completion). Otherwise a
 * completion followed within the gap threshold, and the timeline bounds it to the first
 * interval with completions at or after tNs (exact: false).
 */
export function firstCompletionAfter(
  tNs: number,
  gaps: readonly Gap[],
  t: ColumnarTimeline,
  thresholdNs: number,
): { ns: number; exact: boolean } | undefined {
  for (const g of gaps) {
    if (tNs >= g.startNs && tNs < g.endNs) return g.open ? undefined : { ns: g.endNs - tNs, exact: true };
  }
  const k0 = Math.max(0, Math.floor((tNs - t.startNs) / t.intervalNs));
  for (let k = k0; k < t.reads.length; k++) {
    if (t.reads[k]! + t.writes[k]! > 0) {
      const ivEnd = t.startNs + (k + 1) * t.intervalNs;
      return { ns: Math.min(Math.max(0, ivEnd - tNs), thresholdNs), exact: false };
    }
  }
  return undefined;
}

/** Totals over the timeline. */
export function timelineTotals(t: ColumnarTimeline): { reads: number; writes: number; errors: number } {
  let reads = 0,
    writes = 0,
    errors = 0;
  for (let i = 0; i < t.reads.length; i++) {
    reads += t.reads[i]!;
    writes += t.writes[i]!;
    errors += t.errors[i]!;
  }
  return { reads, writes, errors };
}
