// reset-bench.log lines a person or a log search can rely on: exactly one "run done" line
// per run, with its verdict, reason and metrics, and one "summary" line at the end with
// the counts per verdict and the exit code. Everything else in the log is detail.
import type { Logger } from '../util/logger.js';
import type { RunResult, Verdict } from '../scenario/types.js';
import { VERDICTS } from './stats.js';

/** The fields of a run's line (null metrics stay null: "never"). */
export function runLine(r: RunResult): Record<string, unknown> {
  return {
    event: 'run',
    scenario: r.scenario,
    kernel: r.kernel,
    iteration: r.iteration,
    verdict: r.verdict,
    reason: r.reason,
    duration_ms: r.duration_ms,
    metrics: r.metrics,
  };
}

export function logRunDone(log: Logger, r: RunResult): void {
  const line = runLine(r);
  if (r.verdict === 'ERROR') log.error(line, 'run done');
  else if (r.verdict === 'FAIL') log.warn(line, 'run done');
  else log.info(line, 'run done');
}

/** The counts per verdict (every verdict present, 0 when none). */
export function verdictCounts(runs: readonly RunResult[]): Record<Verdict, number> {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const r of runs) counts[r.verdict]++;
  return counts;
}

export function logSummary(log: Logger, runs: readonly RunResult[], exitCode: number, resultsDir: string): void {
  log.info({ event: 'summary', runs: runs.length, verdicts: verdictCounts(runs), exit_code: exitCode, results: resultsDir }, 'summary');
}
