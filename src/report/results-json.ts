// results.json (CONTRACT, docs/architecture.md): write it (version 2: the I/O series as
// columns, compact text) with a stable key order, read it back (version 2, or version 1
// with the series as points) with validation that names the bad field, and merge shards.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { RESULTS_VERSION, Results, ResultsFileV1, ResultsFileV2, RunRecordV2, type RunResult, type TimelineEvent } from '../scenario/types.js';
import { UsageError } from '../util/errors.js';
import { firstIssue } from '../util/zod-issues.js';
import { compactJson } from './compact-json.js';
import { capIntervals, fromIoSeries, roundUs, toIoSeries, UnevenSeriesError } from './io-series.js';

export const RESULTS_FILE = 'results.json';

function sortedRecord(rec: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k]!;
  return out;
}

const roundEvent = (e: TimelineEvent): TimelineEvent => ({ ...e, t_ms: roundUs(e.t_ms) });

/** One run as stored: keys in schema order (zod rebuilds objects from the shape), unknown
 * keys dropped, artifacts sorted by name, times to the microsecond, the series as columns. */
function toRecord(run: RunResult, index: number): RunRecordV2 {
  let io;
  try {
    io = capIntervals(toIoSeries(run.io));
  } catch (err) {
    if (err instanceof UnevenSeriesError) throw new UsageError(err.message, `runs[${index}].io[${err.index}].t_ms`);
    throw err;
  }
  return RunRecordV2.parse({ ...run, io, events: run.events.map(roundEvent), artifacts: sortedRecord(run.artifacts) });
}

/** The results as results.json version 2 holds them: the same input always gives the same text. */
export function toResultsFile(results: Results): ResultsFileV2 {
  const parsed = Results.parse(results);
  return ResultsFileV2.parse({ ...parsed, version: RESULTS_VERSION, runs: parsed.runs.map(toRecord) });
}

/** results.json text (version 2), newline-terminated. */
export function resultsToJson(results: Results): string {
  return compactJson(toResultsFile(results));
}

function check<T>(schema: z.ZodType<T>, data: unknown, source: string): T {
  const res = schema.safeParse(data);
  if (!res.success) {
    const { field, message } = firstIssue(res.error);
    throw new UsageError(message, `${source}: ${field}`);
  }
  return res.data;
}

/** Parses results.json text, version 2 or 1, into results in memory. A bad file gives a
 * UsageError naming `<source>: <field>`; an unknown version says which ones are read. */
export function parseResults(text: string, source = RESULTS_FILE): Results {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`not valid JSON (${err instanceof Error ? err.message : String(err)})`, source);
  }
  const version = typeof data === 'object' && data !== null ? (data as { version?: unknown }).version : undefined;
  if (version === 1) {
    const v1 = check(ResultsFileV1, data, source);
    return { ...v1, version: RESULTS_VERSION };
  }
  if (version !== RESULTS_VERSION) {
    throw new UsageError(`unsupported version ${JSON.stringify(version)}: this reset-bench reads versions 1 and ${RESULTS_VERSION}`, `${source}: version`);
  }
  const v2 = check(ResultsFileV2, data, source);
  return { ...v2, runs: v2.runs.map((r) => ({ ...r, io: fromIoSeries(r.io) })) };
}

/** Accepts a results.json path or a directory holding one. */
export async function resolveResultsFile(p: string): Promise<string> {
  let st;
  try {
    st = await stat(p);
  } catch {
    throw new UsageError('no such file or directory', p);
  }
  return st.isDirectory() ? path.join(p, RESULTS_FILE) : p;
}

export async function readResultsJson(p: string): Promise<Results> {
  const file = await resolveResultsFile(p);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? 'no results.json here' : `cannot read (${String(code)})`, file);
  }
  return parseResults(text, file);
}

export interface Shard {
  /** Where the shard came from (for messages). */
  source: string;
  /** The shard's results directory: artifacts are rebased from it onto outDir. */
  dir?: string;
  results: Results;
}

export interface MergeOptions {
  /** Results directory of the merged output; artifact paths are made relative to it. */
  outDir?: string;
  /** generated_at of the merged results (default: now). */
  generatedAt?: string;
}

export function runKey(r: Pick<RunResult, 'scenario' | 'kernel' | 'iteration'>): string {
  return `${r.scenario} [${r.kernel}] #${r.iteration}`;
}

/** Merges sharded results into one; the same (scenario, kernel, iteration) twice is a UsageError.
 * Runs are sorted by scenario, kernel, iteration so the order of the shards does not matter. */
export function mergeResults(shards: Shard[], opts: MergeOptions = {}): Results {
  if (shards.length === 0) throw new UsageError('nothing to merge: give at least one results directory');
  const seen = new Map<string, string>();
  const runs: RunResult[] = [];
  for (const shard of shards) {
    for (const run of shard.results.runs) {
      const key = runKey(run);
      const prev = seen.get(key);
      if (prev !== undefined) throw new UsageError(`duplicate run ${key} (also in ${prev})`, shard.source);
      seen.set(key, shard.source);
      let artifacts = run.artifacts;
      if (opts.outDir && shard.dir) {
        const from = shard.dir;
        const to = opts.outDir;
        artifacts = Object.fromEntries(
          Object.entries(run.artifacts).map(([k, v]) => [k, path.isAbsolute(v) ? v : path.relative(to, path.resolve(from, v)).split(path.sep).join('/')]),
        );
      }
      runs.push({ ...run, artifacts });
    }
  }
  runs.sort(
    (a, b) => (a.scenario < b.scenario ? -1 : a.scenario > b.scenario ? 1 : 0) || (a.kernel < b.kernel ? -1 : a.kernel > b.kernel ? 1 : 0) || a.iteration - b.iteration,
  );
  return {
    version: RESULTS_VERSION,
    generated_at: opts.generatedAt ?? new Date().toISOString(),
    tool: shards[0]!.results.tool,
    runs,
  };
}
