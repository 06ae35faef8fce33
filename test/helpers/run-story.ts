// What happened in one run of a results directory, for the message of a VM test's failed
// assertion: the controllers' states from timeline.json and the kernel's NVMe and RDMA
// lines from each VM's kmsg log. A CI run's results directory is gone with its machine;
// a failing assertion's message is what the CI log keeps.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TimelineEvent, type RunResult } from '../../src/scenario/types.js';

const LoaderGaps = z.object({ gaps: z.array(z.object({ startNs: z.number(), ns: z.number() })) });

/** Kernel lines worth reading after a reset: the NVMe and RDMA drivers, and any splat. */
export const STORY_LINE = /nvme|nvmet|rdma|rxe|infiniband|WARNING|BUG|blocked for more than|Call Trace/;

/** A JSON file's text checked against its schema, or a line saying what is wrong with it. */
function parseFile<T>(text: string, file: string, schema: z.ZodType<T>): T | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return `${file} is not JSON: ${(e as Error).message}`;
  }
  const r = schema.safeParse(raw);
  return r.success ? r.data : `${file} unreadable: ${r.error.message}`;
}

function readText(dir: string, rel: string | undefined): string | undefined {
  if (rel === undefined || !existsSync(join(dir, rel))) return undefined;
  return readFileSync(join(dir, rel), 'utf8');
}

/** The controllers' state changes, "t_ms vm nvmeN state", one a line. */
export function controllerStates(timelineText: string): string[] {
  const events = parseFile(timelineText, 'timeline.json', z.array(TimelineEvent));
  if (typeof events === 'string') return [events];
  return events.filter((e) => e.kind === 'state' && e.key.startsWith('nvme/')).map((e) => `${e.t_ms.toFixed(0)} ms ${e.vm} ${e.key.slice(5)} ${e.value}`);
}

/** The last `max` lines of a kmsg log that match STORY_LINE, boot lines left out. */
export function kernelStory(kmsgText: string, max = 60): string[] {
  return kmsgText
    .split('\n')
    .filter((l) => STORY_LINE.test(l) && !/command line:/i.test(l))
    .slice(-max);
}

/** The loader's stalls, "gap at S s for L s" (guest clock), or why there are none to show. */
export function loaderGaps(loaderText: string): string[] {
  const l = parseFile(loaderText, 'loader.json', LoaderGaps);
  if (typeof l === 'string') return [l];
  return l.gaps.map((g) => `gap at ${(g.startNs / 1e9).toFixed(2)} s for ${(g.ns / 1e9).toFixed(2)} s`);
}

/** The run's story in a few dozen lines, or why there is none. */
export function runStory(dir: string, run: RunResult | undefined): string {
  if (run === undefined) return 'no such run in results.json';
  const parts: string[] = [`${run.scenario} [${run.kernel}]: ${run.verdict}`, `markers: ${JSON.stringify(run.markers ?? {})}`];
  const loader = readText(dir, run.artifacts.loader);
  if (loader !== undefined) parts.push('loader stalls (guest clock):', ...loaderGaps(loader));
  const timeline = readText(dir, run.artifacts.timeline);
  if (timeline !== undefined) parts.push('controller states:', ...controllerStates(timeline));
  for (const vm of ['host', 'target']) {
    const kmsg = readText(dir, run.artifacts[`kmsg_${vm}`]);
    if (kmsg !== undefined) parts.push(`${vm} kernel:`, ...kernelStory(kmsg));
  }
  return parts.join('\n');
}

/** An assertion's message on a run's verdict: its reason, and its story when the verdict is not `want`. */
export function verdictMessage(dir: string, run: RunResult | undefined, want: RunResult['verdict']): string {
  if (run === undefined) return 'no such run in results.json';
  return run.verdict === want ? run.reason : `${run.reason}\n${runStory(dir, run)}`;
}
