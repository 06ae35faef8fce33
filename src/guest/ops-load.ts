// The verifying loader run by the agent itself (op load.run), for the scenario runner.
// As a process of its own (`node main.js load --job ...` through exec) its start cost
// 4-6 s of the host VM's one vCPU under TCG, most of the load phase: node's start, its
// modules, the addon. The agent has node started and this code loaded in the saved VM
// state. The I/O runs in the addon's own thread; this is `reset-bench load --job DOC
// --progress-file F --json --compact` without the process: the same job check, the same
// progress and control files, the same JSON, answered as an exec's result would be.
// What it costs: a crash of the engine is the agent's end (the init says so and powers
// off: the run is an ERROR with the console), and a process the agent starts while a job
// runs is slower to start (its fork copies the busier process: session 16's notes).
import { errorMessage, exitCodeOf } from '../util/errors.js';
import { parseJobOption } from '../load/job-doc.js';
import { progressFileWriter } from '../load/progress-file.js';
import { resultToJson, runJob, type LoadResult } from '../load/run.js';
import type { JobSpec } from '../load/spec.js';
import { str } from './args.js';
import type { ExecResult, Op } from './ops.js';

/** What the job came to, as the loader process would have exited: 1 when a write did not read back. */
function asExit(r: LoadResult): ExecResult {
  return { exitCode: r.verify.errors > 0 ? 1 : 0, stdout: `${resultToJson(r, 0)}\n`, stderr: '', timedOut: false };
}

/** From a stop's drain to the answer sent (the result's JSON), at most. */
const STOP_ANSWER_MS = 1_000;

/**
 * Runs the job in `job` (a job document) to its end, which the runner asks for through
 * the control file next to `progressFile` (SIGUSR2: the final read-back, SIGINT: none).
 * The job is stopped early enough for its stop drain and the answer to fit in
 * `deadlineMs` (the agent answers ETIMEDOUT soon after it), or half way when the
 * deadline is shorter than twice that, and the answer then says timedOut, as an exec's
 * would. The runner's jobs drain 0.5 s after a stop (LOADER_STOP_DRAIN_MS).
 */
async function run(args: Record<string, unknown>, deadlineMs: number): Promise<ExecResult> {
  const doc = str(args, 'job');
  const progressFile = str(args, 'progressFile');
  let job: JobSpec;
  try {
    job = parseJobOption(doc);
  } catch (e) {
    return failedExit(e, false);
  }
  const stop = new AbortController();
  const finish = new AbortController();
  const toFile = progressFileWriter(progressFile, (s) => (s === 'SIGUSR2' ? finish : stop).abort());
  let timedOut = false;
  const stopDrainMs = job.stopDrainTimeoutMs ?? job.drainTimeoutMs;
  const timer = setTimeout(
    () => {
      timedOut = true;
      stop.abort();
    },
    deadlineMs - Math.min(stopDrainMs + STOP_ANSWER_MS, deadlineMs / 2),
  );
  try {
    const r = await runJob(job, { onProgress: toFile, signal: stop.signal, finishSignal: finish.signal });
    return { ...asExit(r), timedOut };
  } catch (e) {
    return failedExit(e, timedOut);
  } finally {
    clearTimeout(timer);
    toFile.close();
  }
}

/** A job refused or failed, as the loader process would have exited (2 for a bad job). */
function failedExit(e: unknown, timedOut: boolean): ExecResult {
  return { exitCode: exitCodeOf(e), stdout: '', stderr: `reset-bench load: ${errorMessage(e)}\n`, timedOut };
}

export const loadOps: Record<string, Op> = { run };
