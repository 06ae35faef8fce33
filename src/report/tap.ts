// results.tap: TAP version 13, one test line per run and under it a YAML diagnostic block
// (verdict, reason, metrics, kernel) so that a reader can tell an ERROR (the harness
// failed) from a FAIL (the kernel failed): both are a bare `not ok` to TAP itself.
import { stringify } from 'yaml';
import type { Results, RunResult } from '../scenario/types.js';
import { METRIC_NAMES } from './stats.js';

/** One line, no control characters (a reason must not break the TAP stream). */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** A '#' in a description starts a directive in TAP: escape it as '\\#'. */
const escHash = (s: string): string => oneLine(s).replace(/\\/g, '\\\\').replace(/#/g, '\\#');

/** `<scenario> [<kernel>] #<iteration>`. On a SKIP line the iteration's '#' is escaped
 * (`\\#2 # SKIP reason`), else TAP parsers take `#2 # SKIP` as part of the name and miss the skip. */
export function tapName(r: RunResult, escapeIteration = false): string {
  return `${escHash(r.scenario)} [${escHash(r.kernel)}] ${escapeIteration ? '\\' : ''}#${r.iteration}`;
}

/** The diagnostic of a run; null metrics are "never". */
export function tapDiagnostic(r: RunResult): Record<string, unknown> {
  const metrics: Record<string, number | string> = {};
  for (const m of METRIC_NAMES) metrics[m] = r.metrics[m] ?? 'never';
  const d: Record<string, unknown> = {
    verdict: r.verdict,
    reason: oneLine(r.reason),
    metrics,
    kernel: r.kernel,
    duration_ms: r.duration_ms,
  };
  if (r.kernel_info) d.kernel_abi = r.kernel_info.abi;
  if (r.splat_lines.length > 0) d.splats = r.splat_lines.map(oneLine);
  return d;
}

export function tapLines(r: RunResult, n: number): string[] {
  const ok = r.verdict === 'PASS' || r.verdict === 'SKIP';
  let line = `${ok ? 'ok' : 'not ok'} ${n} - ${tapName(r, r.verdict === 'SKIP')}`;
  if (r.verdict === 'SKIP') line += ` # SKIP ${oneLine(r.reason)}`;
  const yaml = stringify(tapDiagnostic(r), { lineWidth: 0 }).trimEnd().split('\n');
  return [line, '  ---', ...yaml.map((l) => `  ${l}`), '  ...'];
}

export function toTap(results: Results): string {
  const lines = ['TAP version 13', `1..${results.runs.length}`];
  results.runs.forEach((r, i) => lines.push(...tapLines(r, i + 1)));
  return `${lines.join('\n')}\n`;
}
