// Runs one scenario on one kernel: walks the scenario's phases (phases/plan.ts) over one
// run context, timing each, and turns the result into the run's record. Harness
// failures become ERROR, never FAIL; a FAIL or an ERROR while the machine starved a VM
// is run again.
// What each phase does is in phases/.
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createContext, type RunContext, type RunOptions } from './context.js';
import type { LabDriver } from './lab.js';
import type { Phase } from './phases/phase.js';
import { planFor } from './phases/plan.js';
import { qemuLab } from './real-lab.js';
import { errorResult, runResult } from './result.js';
import type { ScenarioSpec } from './spec.js';
import { applyStarvation, describeStarved, erroredWhileStarved, starvedAtError } from './starved.js';
import type { StarvedStretch } from '../vm/starvation.js';
import type { RunResult } from './types.js';

export type { RunOptions } from './context.js';

/** Runs the phases that apply, in order, recording each one's wall time (also when it fails). */
export async function runPhases(ctx: RunContext, phases: readonly Phase[]): Promise<void> {
  for (const phase of phases) {
    if (phase.when && !phase.when(ctx)) continue;
    const start = performance.now();
    try {
      await phase.run(ctx);
    } finally {
      const ms = Math.round(performance.now() - start);
      ctx.phasesMs[phase.name] = ms;
      ctx.log.debug({ run: ctx.runName, phase: phase.name, ms }, 'phase done');
    }
  }
}

/** One attempt: its record, its directory, and, when it is to be run again, the stretch and what it came to. */
interface Attempt {
  result: RunResult;
  runDir: string;
  starved?: StarvedStretch;
  /** What the starved attempt came to, for the second's reason. */
  came?: 'FAILed' | 'ended in an ERROR';
}

/** One attempt. A FAIL turned into an ERROR because this machine starved a VM, or a harness ERROR while it did, is to be run again. */
async function attempt(spec: ScenarioSpec, o: RunOptions, driver: LabDriver): Promise<Attempt> {
  const ctx = createContext(spec, o, driver);
  await mkdir(ctx.runDir, { recursive: true });
  try {
    await runPhases(ctx, planFor(spec));
    const starved = applyStarvation(ctx);
    const result = runResult(ctx);
    return starved === undefined ? { result, runDir: ctx.runDir } : { result, runDir: ctx.runDir, starved, came: 'FAILed' };
  } catch (err) {
    const starved = starvedAtError(ctx.starvation?.stop() ?? []);
    const result = await errorResult(ctx, err);
    if (starved === undefined) return { result, runDir: ctx.runDir };
    return { result: { ...result, reason: erroredWhileStarved(result.reason, starved) }, runDir: ctx.runDir, starved, came: 'ended in an ERROR' };
  } finally {
    ctx.starvation?.stop();
  }
}

/** Where a starved first attempt's files go, inside the run directory. */
export const FIRST_ATTEMPT_DIR = 'first-attempt';

/** Moves the first attempt's files into FIRST_ATTEMPT_DIR: the second's are the run's, the first's are kept to read. */
async function setAsideFirstAttempt(runDir: string): Promise<void> {
  const names = await readdir(runDir);
  const aside = join(runDir, FIRST_ATTEMPT_DIR);
  await mkdir(aside);
  for (const n of names) await rename(join(runDir, n), join(aside, n));
}

/**
 * Runs one scenario on one kernel. A run that FAILed, or ended in a harness ERROR,
 * while this machine starved a VM (starved.ts) is run once more, in the same run
 * directory, the first attempt's files moved into FIRST_ATTEMPT_DIR; the second
 * attempt's record is the run's, starved again or not, its reason saying so first.
 */
export async function runScenario(spec: ScenarioSpec, o: RunOptions, driver: LabDriver = qemuLab): Promise<RunResult> {
  const first = await attempt(spec, o, driver);
  if (first.starved === undefined) return first.result;
  o.log?.warn({ scenario: spec.name, kernel: o.kernel, reason: first.result.reason }, 'starved run, running it again');
  o.progress?.(`${spec.name} [${o.kernel}]: ERROR: ${first.result.reason}; running it again`);
  await setAsideFirstAttempt(first.runDir);
  const second = (await attempt(spec, o, driver)).result;
  return { ...second, reason: `second attempt (the first ${first.came ?? 'FAILed'} while ${describeStarved(first.starved)}; its files are in ${FIRST_ATTEMPT_DIR}/): ${second.reason}` };
}
