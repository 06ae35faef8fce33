// Why: the benchmark's numbers come from what a run records (results.json's phases_ms and
// each run's loader.json), so a results directory from `bench`, `run` or CI gives the same
// table as the runs that made it. This reads one into BenchRuns.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { readResultsJson, resolveResultsFile } from '../report/results-json.js';
import { CATALOG } from '../scenario/catalog.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import type { RunResult } from '../scenario/types.js';
import type { BenchRun } from './phase-stats.js';

/** The part of loader.json the bench reads (the loader contract is src/load/result-schema.ts). */
const FinalPass = z.object({ verify: z.object({ finalPass: z.object({ ran: z.boolean(), startNs: z.number(), endNs: z.number() }) }) });

/** The final read-back's duration from a run's loader.json; undefined when none ran or there is no file. */
export async function finalPassMs(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = FinalPass.safeParse(json);
  if (!r.success || !r.data.verify.finalPass.ran) return undefined;
  const fp = r.data.verify.finalPass;
  return (fp.endNs - fp.startNs) / 1e6;
}

/** A run of `scenarios` (the run's own spec first, else the catalog's by name) as the bench sees it. */
export async function benchRunOf(r: RunResult, dir: string, scenarios: readonly ScenarioSpec[] = []): Promise<BenchRun> {
  const spec = [...scenarios, ...CATALOG].find((s) => s.name === r.scenario);
  const loader = r.artifacts.loader;
  const fp = loader === undefined ? undefined : await finalPassMs(join(dir, loader));
  return {
    verdict: r.verdict,
    phases: r.phases_ms ?? {},
    ...(spec ? { postMs: spec.post_ms } : {}),
    ...(fp !== undefined ? { finalPassMs: fp } : {}),
  };
}

/** Every run of a results directory (or results.json), optionally only one scenario's. */
export async function benchRunsFrom(path: string, scenarios: readonly ScenarioSpec[] = [], only?: string): Promise<BenchRun[]> {
  const dir = dirname(await resolveResultsFile(path));
  const results = await readResultsJson(path);
  const runs = results.runs.filter((r) => only === undefined || r.scenario === only);
  return Promise.all(runs.map((r) => benchRunOf(r, dir, scenarios)));
}
