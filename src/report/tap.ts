// results.tap: TAP version 13, one flat line per run, numbers as `# key=value`.
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

export function tapLines(r: RunResult, n: number): string[] {
  const ok = r.verdict === 'PASS' || r.verdict === 'SKIP';
  let line = `${ok ? 'ok' : 'not ok'} ${n} - ${tapName(r, r.verdict === 'SKIP')}`;
  if (r.verdict === 'SKIP') line += ` # SKIP ${oneLine(r.reason)}`;
  const out = [line];
  for (const m of METRIC_NAMES) {
    const v = r.metrics[m];
    out.push(`# ${m}=${v === null ? 'never' : String(v)}`);
  }
  out.push(`# reason=${oneLine(r.reason)}`);
  return out;
}

export function toTap(results: Results): string {
  const lines = ['TAP version 13', `1..${results.runs.length}`];
  results.runs.forEach((r, i) => lines.push(...tapLines(r, i + 1)));
  return `${lines.join('\n')}\n`;
}
