// Distributions of a metric over --repeat runs, and the stock vs patched comparison.
import type { Metrics, Results, RunResult, Verdict } from '../scenario/types.js';
import { median, nearestRank } from '../util/percentile.js';

export interface Distribution {
  /** Number of runs with a value. */
  n: number;
  /** Number of runs where the metric is null (the event never happened). */
  never: number;
  min: number | null;
  median: number | null;
  /** Nearest-rank 95th percentile: the ceil(0.95 n)-th smallest value. */
  p95: number | null;
  max: number | null;
}

export function distribution(values: readonly (number | null | undefined)[]): Distribution {
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  return {
    n: nums.length,
    never: values.length - nums.length,
    min: nums.length ? nums[0]! : null,
    median: median(nums),
    p95: nearestRank(nums, 95),
    max: nums.length ? nums[nums.length - 1]! : null,
  };
}

export type MetricName = keyof Metrics;
export const METRIC_NAMES: readonly MetricName[] = ['outage_ms', 'recovery_ms', 'ctrl_live_ms', 'io_errors', 'verify_errors', 'lost_writes', 'splats'];
export const VERDICTS: readonly Verdict[] = ['PASS', 'FAIL', 'ERROR', 'SKIP'];

export function metricDistribution(runs: readonly RunResult[], metric: MetricName): Distribution {
  return distribution(runs.map((r) => r.metrics[metric]));
}

export interface SideSummary {
  runs: number;
  verdicts: Record<Verdict, number>;
  outage_ms: Distribution;
  recovery_ms: Distribution;
  ctrl_live_ms: Distribution;
  io_errors: number;
  verify_errors: number;
  lost_writes: number;
  splats: number;
}

export interface ComparisonRow {
  scenario: string;
  /** kernel -> summary; a kernel without runs of this scenario is absent. */
  kernels: Record<string, SideSummary>;
}

export interface Comparison {
  /** stock and patched first, then other kernels in order of appearance. */
  kernels: string[];
  rows: ComparisonRow[];
}

export function summarize(runs: readonly RunResult[]): SideSummary {
  const verdicts: Record<Verdict, number> = { PASS: 0, FAIL: 0, ERROR: 0, SKIP: 0 };
  let io = 0, verify = 0, lost = 0, splats = 0;
  for (const r of runs) {
    verdicts[r.verdict]++;
    io += r.metrics.io_errors;
    verify += r.metrics.verify_errors;
    lost += r.metrics.lost_writes;
    splats += r.metrics.splats;
  }
  return {
    runs: runs.length,
    verdicts,
    outage_ms: metricDistribution(runs, 'outage_ms'),
    recovery_ms: metricDistribution(runs, 'recovery_ms'),
    ctrl_live_ms: metricDistribution(runs, 'ctrl_live_ms'),
    io_errors: io,
    verify_errors: verify,
    lost_writes: lost,
    splats,
  };
}

export function orderKernels(kernels: Iterable<string>): string[] {
  const all = [...new Set(kernels)];
  const first = ['distro', 'stock', 'patched'].filter((k) => all.includes(k));
  return [...first, ...all.filter((k) => !first.includes(k))];
}

/** For each scenario (in order of first appearance), each kernel's runs summarized. */
export function buildComparison(input: Results | readonly RunResult[]): Comparison {
  const runs = 'runs' in input ? input.runs : input;
  const kernels = orderKernels(runs.map((r) => r.kernel));
  const byScenario = new Map<string, Map<string, RunResult[]>>();
  for (const r of runs) {
    let m = byScenario.get(r.scenario);
    if (!m) byScenario.set(r.scenario, (m = new Map<string, RunResult[]>()));
    let list = m.get(r.kernel);
    if (!list) m.set(r.kernel, (list = []));
    list.push(r);
  }
  const rows: ComparisonRow[] = [];
  for (const [scenario, m] of byScenario) {
    const row: ComparisonRow = { scenario, kernels: {} };
    for (const k of kernels) {
      const list = m.get(k);
      if (list) row.kernels[k] = summarize(list);
    }
    rows.push(row);
  }
  return { kernels, rows };
}

/** "3.01 s", "850 ms", "never", "-" */
export function formatMs(v: number | null | undefined): string {
  if (v === null) return 'never';
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

/** Median with the never count: "3.01 s", "never", "3.01 s (+2 never)". */
export function formatDistMedian(d: Distribution): string {
  if (d.n === 0) return d.never > 0 ? 'never' : '-';
  return d.never > 0 ? `${formatMs(d.median)} (+${d.never} never)` : formatMs(d.median);
}

export function formatVerdicts(v: Record<Verdict, number>): string {
  return VERDICTS.filter((k) => v[k] > 0)
    .map((k) => `${v[k]} ${k}`)
    .join(', ');
}

/** Plain-text comparison table (for `compare` on a terminal). */
export function formatComparison(c: Comparison): string {
  const header = ['scenario', ...c.kernels.flatMap((k) => [`${k} verdicts`, `${k} outage`, `${k} recovery`, `${k} ctrl live`, `${k} io/verify err`])];
  const lines: string[][] = [header];
  for (const row of c.rows) {
    const cells = [row.scenario];
    for (const k of c.kernels) {
      const s = row.kernels[k];
      if (!s) cells.push('-', '-', '-', '-', '-');
      else cells.push(formatVerdicts(s.verdicts), formatDistMedian(s.outage_ms), formatDistMedian(s.recovery_ms), formatDistMedian(s.ctrl_live_ms), `${s.io_errors}/${s.verify_errors}`);
    }
    lines.push(cells);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
