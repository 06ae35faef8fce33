// The verifying loader in the host VM as a run drives it: its command line, how much
// I/O it has completed (its progress file), and its end: SIGUSR2 ends the I/O and runs
// the final read-back in the same process, SIGINT stops it without one.
import { join } from 'node:path';
import type { ExecResult } from '../guest/ops.js';
import { parseProgressLine } from '../load/progress-file.js';
import type { LoadResult } from '../load/run.js';
import type { LabAgent } from '../orchestrate/nvme-lab.js';
import { sleep } from '../util/deadline.js';
import { HarnessError } from '../util/errors.js';
import { LOADER_EXEC_SLACK_MS } from '../util/timeouts.js';
import type { LoaderRun } from './context.js';
import type { ScenarioSpec } from './spec.js';

/** Where the loader saves its record of acknowledged writes (for a later `load --verify-only`). */
export const STATE_FILE = '/tmp/reset-bench-load.state';
export const PROGRESS_FILE = '/tmp/reset-bench-load.progress';

export function loaderArgv(project: string, spec: ScenarioSpec, dev: string, runtimeMs: number): string[] {
  const l = spec.load;
  const argv = [
    'node', join(project, 'dist', 'cli', 'main.js'), 'load',
    '--filename', dev, '--rw', l.rw, '--bs', l.bs, '--iodepth', String(l.iodepth), '--size', l.size,
    '--runtime', `${runtimeMs}ms`, '--verify', '1', '--interval', '10', '--gap-threshold', '50',
    '--retry-backoff', '100', '--drain-timeout', '20000', '--save-state', STATE_FILE,
    '--progress-file', PROGRESS_FILE, '--json',
  ];
  if (l.rate_iops) argv.push('--rate-iops', String(l.rate_iops));
  return argv;
}

/**
 * The loader's own runtime: the runner ends it with a signal, so this is only a
 * backstop, and a slow (debug) kernel stretches every step, so leave it plenty.
 */
export function loaderRuntimeMs(spec: ScenarioSpec): number {
  const perReset = spec.down_ms + 3000;
  const planned = spec.pre_ms + (spec.during === 'io' ? spec.resets * perReset + spec.recovery_deadline_ms : 0) + spec.post_ms;
  return planned * 4 + 60_000;
}

/** Starts the loader on `dev`; it runs until stopLoader() (or its runtime runs out). */
export function startLoader(agent: LabAgent, project: string, spec: ScenarioSpec, dev: string): LoaderRun {
  const runtimeMs = loaderRuntimeMs(spec);
  const exit = agent.exec(loaderArgv(project, spec, dev, runtimeMs), { deadlineMs: runtimeMs + LOADER_EXEC_SLACK_MS });
  let finished = false;
  exit.finally(() => (finished = true)).catch(() => undefined);
  return {
    exit,
    runtimeMs,
    done: () => finished,
    // Block-layer counters will not do: a request failed over to the multipath head
    // counts as completed on its path device.
    completed: async () => parseProgressLine(await agent.fs().readFile(PROGRESS_FILE)).completed,
  };
}

/** How often the runner looks at the loader's progress file. */
const PROGRESS_POLL_MS = 50;

/**
 * Waits until the loader's completed count passes `since`; false at the deadline or
 * when the loader has ended. A count that cannot be read (no progress file yet) is no
 * progress.
 */
export async function ioAfter(loader: LoaderRun, since: number, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if ((await loader.completed().catch(() => since)) > since) return true;
    if (loader.done() || Date.now() > end) return false;
    await sleep(PROGRESS_POLL_MS);
  }
}

/** Ends the loader: with its final read-back (verify) or without. */
export async function stopLoader(agent: LabAgent, loader: LoaderRun, verify: boolean): Promise<ExecResult> {
  await agent.exec(['pkill', verify ? '-USR2' : '-INT', '-f', 'main.js load']);
  return loader.exit;
}

/** The loader's JSON result. */
export function parseLoaderOutput(r: ExecResult): LoadResult {
  try {
    return JSON.parse(r.stdout) as LoadResult;
  } catch {
    throw new HarnessError(`the loader printed no JSON (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  }
}
