// Why: the loader's latency percentiles, the report's distributions over --repeat runs
// and the benchmarks' tables use the same definitions (nearest rank, as fio does; the
// median as the mean of the two middle values); one function each keeps them so.

/**
 * Nearest-rank percentile (0 < p <= 100) of values sorted ascending: the
 * ceil(p/100 * n)-th smallest value; null when there are none.
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** The median of the values (in any order): the middle one, or the mean of the two middle ones; null when there are none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
