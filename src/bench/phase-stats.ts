// Why: issue 16's measure of speed is the median time of each phase of a run over several
// runs, against the goals (25 s boot to verdict, target and connect in 3 s, the read-back
// verify in 3 s). This is the pure part of `reset-bench bench`: what is measured per run,
// the medians and the table, so it is tested without a VM.
import { median } from '../util/percentile.js';

/** What one run of a benchmark gives: its phases and what the bench derives from its record. */
export interface BenchRun {
  verdict: string;
  /** phases_ms of the run, in the order they ran. */
  phases: Record<string, number>;
  /** The scenario's post_ms (I/O after recovery, part of the finish phase); unknown: undefined. */
  postMs?: number;
  /** The loader's final read-back pass (loader.json verify.finalPass), ms; none ran: undefined. */
  finalPassMs?: number;
}

/** A measure that is not a phase: made from a run's phases (and what else the bench knows). */
interface Derived {
  name: string;
  of(r: BenchRun): number | undefined;
}

/** Phases that come after the verdict: not part of "boot to verdict". */
const AFTER_VERDICT = new Set(['shutdown']);

const sumOf = (r: BenchRun, names: string[]): number | undefined =>
  names.every((n) => r.phases[n] !== undefined) ? names.reduce((s, n) => s + r.phases[n]!, 0) : undefined;

export const DERIVED: readonly Derived[] = [
  // Booted to connected: the instrument phase between the two counts, since what it
  // waits for (the host agent's imports, `settled`) holds the connect as much.
  { name: 'target+connect', of: (r) => sumOf(r, ['target', 'instrument', 'connect']) },
  // The finish phase is post_ms of I/O, then the loader's stop, its read-back and its
  // JSON checked: what the user waits for the verify is the part after post_ms.
  {
    name: 'verify',
    of: (r) => (r.finalPassMs !== undefined && r.postMs !== undefined && r.phases.finish !== undefined ? r.phases.finish - r.postMs : undefined),
  },
  { name: 'final-pass', of: (r) => r.finalPassMs },
  {
    name: 'boot-to-verdict',
    of: (r) => (r.phases.boot === undefined ? undefined : Object.entries(r.phases).reduce((s, [k, v]) => (AFTER_VERDICT.has(k) ? s : s + v), 0)),
  },
];

/** Issue 16's goals on a 2-core TCG machine, ms. */
export const GOALS: Readonly<Record<string, number>> = {
  boot: 4000,
  'target+connect': 3000,
  verify: 3000,
  'boot-to-verdict': 25_000,
};

export interface BenchRow {
  name: string;
  /** Runs that had this measure. */
  n: number;
  median: number;
  min: number;
  max: number;
  goal?: number;
  /** median / goal: above 1 misses the goal. */
  ratio?: number;
}

function row(name: string, values: number[]): BenchRow | undefined {
  const m = median(values);
  if (m === null) return undefined;
  const goal = GOALS[name];
  return {
    name,
    n: values.length,
    median: m,
    min: Math.min(...values),
    max: Math.max(...values),
    ...(goal !== undefined ? { goal, ratio: m / goal } : {}),
  };
}

/** One row per phase (in the order they first ran), then the derived measures. */
export function benchRows(runs: readonly BenchRun[]): BenchRow[] {
  const names: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.phases)) if (!names.includes(k)) names.push(k);
  const phaseRows = names.map((n) => row(n, runs.flatMap((r) => (r.phases[n] === undefined ? [] : [r.phases[n]]))));
  const derivedRows = DERIVED.map((d) => row(d.name, runs.flatMap((r) => { const v = d.of(r); return v === undefined ? [] : [v]; })));
  return [...phaseRows, ...derivedRows].filter((r): r is BenchRow => r !== undefined);
}

const sec = (ms: number): string => (ms / 1000).toFixed(2);

/** The table `bench` prints: seconds, the ratio to the goal where there is one. */
export function formatBenchTable(rows: readonly BenchRow[], runs: readonly BenchRun[]): string {
  const header = ['measure', 'n', 'median s', 'min s', 'max s', 'goal s', 'median/goal'];
  const body = rows.map((r) => [
    r.name,
    String(r.n),
    sec(r.median),
    sec(r.min),
    sec(r.max),
    r.goal === undefined ? '' : sec(r.goal),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}${r.ratio > 1 ? ' MISS' : ' ok'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const verdicts = new Map<string, number>();
  for (const r of runs) verdicts.set(r.verdict, (verdicts.get(r.verdict) ?? 0) + 1);
  const tally = [...verdicts].map(([v, k]) => `${k} ${v}`).join(', ');
  return [`${runs.length} run(s): ${tally}`, line(header), ...body.map(line)].join('\n') + '\n';
}
