// Writes every output of a results directory: results.json, results.tap, junit.xml,
// kcidb.json, report.html.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Results } from '../scenario/types.js';
import { renderHtml } from './html.js';
import { toJunit } from './junit.js';
import { checkOrigin, kcidbToJson } from './kcidb.js';
import { parseResults, RESULTS_FILE, resultsToJson } from './results-json.js';
import { toTap } from './tap.js';

/** What writeReport writes into a results directory, in this order. */
export const REPORT_FILES = [RESULTS_FILE, 'results.tap', 'junit.xml', 'kcidb.json', 'report.html'] as const;
type ReportFile = (typeof REPORT_FILES)[number];

export interface WriteReportOptions {
  /** Leave results.json as it is (the `report` command rebuilds only what derives from it). */
  skipResultsJson?: boolean;
  /** KCIDB origin of kcidb.json (`--kcidb-origin`; default reset_bench). */
  kcidbOrigin?: string;
}

/** Writes atomically (temp file + rename) so a reader never sees half a file. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Every output is made from what results.json holds (times to the microsecond, artifacts
 * sorted, the series as stored), so `reset-bench report` later rebuilds the same bytes. */
export async function writeReport(dir: string, given: Results, opts: WriteReportOptions = {}): Promise<{ files: string[] }> {
  if (opts.kcidbOrigin !== undefined) checkOrigin(opts.kcidbOrigin);
  const json = resultsToJson(given);
  const results = parseResults(json);
  await mkdir(dir, { recursive: true });
  const render: Record<ReportFile, () => string> = {
    [RESULTS_FILE]: () => json,
    'results.tap': () => toTap(results),
    'junit.xml': () => toJunit(results),
    'kcidb.json': () => kcidbToJson(results, { origin: opts.kcidbOrigin }),
    'report.html': () => renderHtml(results),
  };
  const files: string[] = [];
  for (const name of REPORT_FILES) {
    if (opts.skipResultsJson && name === RESULTS_FILE) continue;
    const file = path.join(dir, name);
    await writeAtomic(file, render[name]());
    files.push(file);
  }
  return { files };
}
