// The verifying loader in the host VM as a run drives it: its job (run by the host VM's
// agent), how much I/O it has completed (its progress file), and its end: SIGUSR2 ends
// the I/O and runs the final read-back in the same job, SIGINT stops it without one.
import type { ExecResult } from '../guest/ops.js';
import { controlFileOf, parseProgressLine } from '../load/progress-file.js';
import { jobDocument } from '../load/job-doc.js';
import { parseLoadResult, warmLoadResultSchema } from '../load/result-schema.js';
import type { LoadResult } from '../load/run.js';
import type { LabAgent } from '../orchestrate/nvme-lab.js';
import { sleep } from '../util/deadline.js';
import { HarnessError } from '../util/errors.js';
import {
  LOADER_BACKSTOP_EXTRA_MS,
  LOADER_BACKSTOP_FACTOR,
  LOADER_DRAIN_MS,
  LOADER_EXEC_SLACK_MS,
  LOADER_PROGRESS_POLL_MS,
  LOADER_PROGRESS_TICK_MS,
  LOADER_STOP_DRAIN_MS,
  RESET_STEPS_ESTIMATE_MS,
} from '../util/timeouts.js';
import type { LoaderRun } from './context.js';
import type { ScenarioSpec } from './spec.js';

export const PROGRESS_FILE = '/tmp/reset-bench-load.progress';

/**
 * Reads in flight in the final read-back (at least; a deeper load keeps its depth): the
 * controller's one IO queue holds 128 (nvme-rdma's default queue_size), and reads over
 * soft-RoCE under TCG go faster the more are in flight. Patched 6.1 pair, 2-core machine
 * shared with kernel builds: 2252 reads took 8.8 s at 8 and 2.9-5.9 s at 32; 3193 reads
 * 5.4-5.7 s at 32, 4.8-5.7 s at 64, 3.5-4.2 s at 128.
 */
export const VERIFY_IODEPTH = 128;

/** The loader's job on `dev`: one JSON document, checked once in the guest (load.run: src/guest/ops-load.ts). */
export function loaderJob(spec: ScenarioSpec, dev: string, runtimeMs: number): string {
  const l = spec.load;
  return jobDocument({
    filename: dev, rw: l.rw, bs: l.bs, iodepth: l.iodepth, size: l.size, runtimeMs, verify: true,
    verifyIodepth: Math.max(l.iodepth, VERIFY_IODEPTH), progressMs: LOADER_PROGRESS_TICK_MS,
    intervalMs: 10, gapThresholdMs: 50, retryBackoffMs: 100, drainTimeoutMs: LOADER_DRAIN_MS,
    stopDrainTimeoutMs: LOADER_STOP_DRAIN_MS,
    ...(l.rate_iops ? { rateIops: l.rate_iops } : {}),
  });
}

/** The loader's own runtime: a backstop (see LOADER_BACKSTOP_FACTOR), the runner ends it. */
export function loaderRuntimeMs(spec: ScenarioSpec): number {
  const perReset = spec.down_ms + RESET_STEPS_ESTIMATE_MS;
  const planned = spec.pre_ms + (spec.during !== 'connect' ? spec.resets * perReset + spec.recovery_deadline_ms : 0) + spec.post_ms;
  return planned * LOADER_BACKSTOP_FACTOR + LOADER_BACKSTOP_EXTRA_MS;
}

/**
 * The loader's files gone before it starts. The guest's root is the host's, read-only
 * under a tmpfs overlay, so a file the host has at these paths (a loader run on the host
 * with the runner's paths) shows through: a stale progress file read as I/O flowing let a
 * stock unload-during-recovery run start its reset before the loader had opened the
 * device (ERROR: "cannot open /dev/nvme0n1"), and a stale control file would stop the
 * loader at its first tick. An unlink there leaves a whiteout in the overlay.
 */
export async function clearLoaderFiles(agent: LabAgent): Promise<void> {
  const fs = agent.fs();
  const unlink = (f: string): Promise<void> =>
    fs.unlink(f).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    });
  // both asked at once: independent round trips (a job saves no state file any more, so
  // there is none to clear: the read-back runs in the same job)
  await Promise.all([unlink(PROGRESS_FILE), unlink(controlFileOf(PROGRESS_FILE))]);
}

/**
 * Starts the loader on `dev`; it runs until stopLoader() (or its runtime runs out). The
 * host VM's agent runs it (op load.run): a process of its own started in 4-6 s there.
 */
export function startLoader(agent: LabAgent, spec: ScenarioSpec, dev: string): LoaderRun {
  warmLoadResultSchema(); // its first parse, cold, would be in the finish phase
  const runtimeMs = loaderRuntimeMs(spec);
  const job = loaderJob(spec, dev, runtimeMs);
  const exit = clearLoaderFiles(agent).then(() =>
    agent.call<ExecResult>('load.run', { job, progressFile: PROGRESS_FILE }, runtimeMs + LOADER_EXEC_SLACK_MS),
  );
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

/**
 * Waits until the loader's completed count passes `since`; false at the deadline, when
 * the loader has ended, or once `giveUp` says the run is decided. A count that cannot be read (no progress file yet) is no
 * progress.
 */
export async function ioAfter(loader: LoaderRun, since: number, deadlineMs: number, giveUp?: () => boolean): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if ((await loader.completed().catch(() => since)) > since) return true;
    if (loader.done() || Date.now() > end || giveUp?.()) return false;
    await sleep(LOADER_PROGRESS_POLL_MS);
  }
}

/**
 * Ends the loader: with its final read-back (verify; I/O in flight waited for up to
 * LOADER_DRAIN_MS first) or without (up to LOADER_STOP_DRAIN_MS). Through its control file
 * (one agent round trip; it acts on it at once through inotify, or on its next progress tick).
 */
export async function stopLoader(agent: LabAgent, loader: LoaderRun, verify: boolean): Promise<ExecResult> {
  await agent.fs().writeFile(controlFileOf(PROGRESS_FILE), verify ? 'SIGUSR2' : 'SIGINT');
  return loader.exit;
}

/**
 * loader.json as the results keep it: the loader's own JSON, indented. The job answers it
 * on one line (as `load --json --compact`: about a third of the bytes through the agent
 * channel); the content is the same document, every field kept.
 */
export function loaderJsonFile(r: ExecResult): string {
  return `${JSON.stringify(JSON.parse(r.stdout), null, 2)}\n`;
}

/** The loader's JSON result, checked against the loader contract (src/load/result-schema.ts). */
export function parseLoaderOutput(r: ExecResult): LoadResult {
  try {
    JSON.parse(r.stdout);
  } catch {
    throw new HarnessError(`the loader printed no JSON (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  }
  return parseLoadResult(r.stdout, `the loader (exit ${r.exitCode})`);
}
