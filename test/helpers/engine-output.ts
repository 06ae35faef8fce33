// Why: the loader's tests look into what the io_uring engine returns (its state buffer
// and its columnar timeline) with sums and counts the harness itself never needs;
// they are here so that src/load holds only what a run uses.
import { blockRecord, decodeStateHeader } from '../../src/load/verify.js';
import type { ColumnarTimeline } from '../../src/load/timeline.js';
import { nearestRank } from '../../src/util/percentile.js';

/** Blocks with an acknowledged write, and blocks whose last write was not acknowledged. */
export function stateCounts(buf: Uint8Array): { written: number; unacked: number } {
  const { nblocks } = decodeStateHeader(buf);
  let written = 0;
  let unacked = 0;
  for (let i = 0; i < nblocks; i++) {
    const r = blockRecord(buf, i);
    if (r.acked) written++;
    if (r.issued > r.acked) unacked++;
  }
  return { written, unacked };
}

/** Completions and errors summed over the timeline's intervals. */
export function timelineTotals(t: ColumnarTimeline): { reads: number; writes: number; errors: number } {
  const sum = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0);
  return { reads: sum(t.reads), writes: sum(t.writes), errors: sum(t.errors) };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; 0 for none. */
export const percentile = (values: readonly number[], p: number): number => nearestRank([...values].sort((a, b) => a - b), p) ?? 0;
