// The engine's timeline (fixed intervals, columnar) and its gaps between completions,
// and the longest gap in a window. All times are CLOCK_MONOTONIC nanoseconds (the same
// clock the agent stamps its events with).

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

/** The longest gap overlapping [fromNs, toNs] (whole job when omitted), or undefined. */
export function longestGap(gaps: readonly Gap[], fromNs = -Infinity, toNs = Infinity): Gap | undefined {
  let best: Gap | undefined;
  for (const g of gaps) {
    if (g.endNs < fromNs || g.startNs > toNs) continue;
    if (!best || g.ns > best.ns) best = g;
  }
  return best;
}
