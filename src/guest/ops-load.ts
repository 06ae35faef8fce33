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
import { errorMessage, exitCodeOf, UsageError } from '../util/errors.js';
import { parseJobDocument } from '../load/job-doc.js';
import { progressFileWriter } from '../load/progress-file.js';
import { resultToJson, runJob, type LoadResult } from '../load/run.js';
import { str } from './args.js';
import type { ExecResult, Op } from './ops.js';

/** What the job came to, as the loader process would have exited: 1 when a write did not read back. */
function asExit(r: LoadResult): ExecResult {
  return { exitCode: r.verify.errors > 0 ? 1 : 0, stdout: `${resultToJson(r, 0)}\n`, stderr: '', timedOut: false };
}

/** The job, checked once; an error names --job and the field, as `reset-bench load --job` does. */
function checkedJob(doc: string): ReturnType<typeof parseJobDocument> {
  try {
    return parseJobDocument(doc);
  } catch (e) {
    if (e instanceof UsageError && e.field && !e.field.startsWith('--')) throw new UsageError(e.message, '--job');
    throw e;
  }
}

/**
 * Runs the job in `job` (a job document) to its end, which the runner asks for through
 * the control file next to `progressFile` (SIGUSR2: the final read-back, SIGINT: none).
 * At `deadlineMs` the job is stopped and the answer says timedOut, as an exec's would.
 */
async function run(args: Record<string, unknown>, deadlineMs: number): Promise<ExecResult> {
  const doc = str(args, 'job');
  const progressFile = str(args, 'progressFile');
  const stop = new AbortController();
  const finish = new AbortController();
  const toFile = progressFileWriter(progressFile, (s) => (s === 'SIGUSR2' ? finish : stop).abort());
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort();
  }, deadlineMs);
  try {
    const r = await runJob(checkedJob(doc), { onProgress: toFile, signal: stop.signal, finishSignal: finish.signal });
    return { ...asExit(r), timedOut };
  } catch (e) {
    return { exitCode: exitCodeOf(e), stdout: '', stderr: `reset-bench load: ${errorMessage(e)}\n`, timedOut };
  } finally {
    clearTimeout(timer);
    toFile.close();
  }
}

export const loadOps: Record<string, Op> = { run };
