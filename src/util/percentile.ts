// Why: the loader's latency percentiles and the report's distributions over --repeat
// runs use the same definition (nearest rank, as fio does); one function keeps them so.

/**
 * Nearest-rank percentile (0 < p <= 100) of values sorted ascending: the
 * ceil(p/100 * n)-th smallest value; null when there are none.
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
