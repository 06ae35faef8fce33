// The I/O rate series between its two shapes: points in memory (what the metrics and the
// timeline draw from) and columns in results.json (t0, interval, counts), which is what
// keeps a run's results at a few KB. Lossless for the loader's evenly spaced intervals.
import type { IoPoint, IoSeries } from '../scenario/types.js';

/** Times are stored to the microsecond: far below the clock's error bound. */
export const roundUs = (ms: number): number => Math.round(ms * 1000) / 1000;

/** How far (ms) a point may sit from t0 + i * interval and still count as evenly spaced. */
const SPACING_TOLERANCE_MS = 0.002;

export class UnevenSeriesError extends Error {
  constructor(readonly index: number, readonly expectedMs: number, readonly gotMs: number) {
    super(`I/O point ${index} is at ${gotMs} ms, not at ${expectedMs} ms: the series is not evenly spaced`);
    this.name = 'UnevenSeriesError';
  }
}

/** Points -> columns. Throws UnevenSeriesError if the points are not evenly spaced. */
export function toIoSeries(points: readonly IoPoint[]): IoSeries {
  const n = points.length;
  if (n === 0) return { t0_ms: 0, interval_ms: 0, completions: [], errors: [] };
  const t0 = roundUs(points[0]!.t_ms);
  const interval = n > 1 ? roundUs((points[n - 1]!.t_ms - points[0]!.t_ms) / (n - 1)) : 0;
  const completions: number[] = [];
  const errors: number[] = [];
  let anyError = false;
  points.forEach((p, i) => {
    const expected = t0 + i * interval;
    if (Math.abs(p.t_ms - expected) > SPACING_TOLERANCE_MS) throw new UnevenSeriesError(i, roundUs(expected), p.t_ms);
    completions.push(p.completions);
    errors.push(p.errors);
    if (p.errors !== 0) anyError = true;
  });
  return { t0_ms: t0, interval_ms: interval, completions, errors: anyError ? errors : [] };
}

/** Columns -> points (t_ms rounded to the microsecond). */
export function fromIoSeries(s: IoSeries): IoPoint[] {
  return s.completions.map((c, i) => ({ t_ms: roundUs(s.t0_ms + i * s.interval_ms), completions: c, errors: s.errors[i] ?? 0 }));
}

/** The most intervals results.json keeps per run (30 s of the loader's 10 ms intervals). */
export const MAX_STORED_INTERVALS = 3000;

/**
 * A longer series merged k intervals at a time (k the smallest that fits), counts summed,
 * so that results.json stays small when a run uses the loader's whole runtime. The last
 * interval may merge fewer than k. The full-resolution series stays in the run's
 * loader.json, and every metric was computed from it before this.
 */
export function capIntervals(s: IoSeries, max = MAX_STORED_INTERVALS): IoSeries {
  const n = s.completions.length;
  if (n <= max) return s;
  const k = Math.ceil(n / max);
  const sum = (xs: number[]): number[] => {
    const out: number[] = [];
    for (let i = 0; i < xs.length; i += k) out.push(xs.slice(i, i + k).reduce((a, b) => a + b, 0));
    return out;
  };
  return { t0_ms: s.t0_ms, interval_ms: roundUs(s.interval_ms * k), completions: sum(s.completions), errors: s.errors.length ? sum(s.errors) : [] };
}
