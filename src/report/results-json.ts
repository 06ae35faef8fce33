// results.json (CONTRACT, ARCHITECTURE.md): write it with a stable key order, read it
// back with validation that names the bad field, and merge shards of a CI matrix.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { Results, type RunResult } from '../scenario/types.js';
import { UsageError } from '../util/errors.js';

export const RESULTS_FILE = 'results.json';

function sortedRecord(rec: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k]!;
  return out;
}

/** The results with keys in schema order (zod rebuilds objects from the shape), unknown
 * keys dropped and artifacts sorted by name: the same input always gives the same text. */
export function canonicalResults(results: Results): Results {
  const parsed = Results.parse(results);
  return { ...parsed, runs: parsed.runs.map((r) => ({ ...r, artifacts: sortedRecord(r.artifacts) })) };
}

/** Pretty results.json text, newline-terminated. */
export function resultsToJson(results: Results): string {
  return `${JSON.stringify(canonicalResults(results), null, 2)}\n`;
}

export async function writeResultsJson(file: string, results: Results): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, resultsToJson(results));
}

/** `runs[2].metrics.outage_ms` from a zod issue path. */
export function fieldPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(top level)';
}

function describeIssues(error: z.ZodError): { field: string; message: string } {
  const first = error.issues[0]!;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return { field: fieldPath(first.path), message: `${first.message}${more}` };
}

/** Parses results.json text; a bad file gives a UsageError naming `<source>: <field>`. */
export function parseResults(text: string, source = RESULTS_FILE): Results {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`not valid JSON (${err instanceof Error ? err.message : String(err)})`, source);
  }
  const res = Results.safeParse(data);
  if (!res.success) {
    const { field, message } = describeIssues(res.error);
    throw new UsageError(message, `${source}: ${field}`);
  }
  return res.data;
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
    if (shard.results.version !== 1) throw new UsageError(`unsupported version ${String(shard.results.version)}`, `${shard.source}: version`);
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
    version: 1,
    generated_at: opts.generatedAt ?? new Date().toISOString(),
    tool: shards[0]!.results.tool,
    runs,
  };
}
