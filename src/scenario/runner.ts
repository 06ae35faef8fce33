// Runs one scenario on one kernel: walks the scenario's phases (phases/plan.ts) over one
// run context, timing each, and turns the result into the run's record. Harness
// failures become ERROR, never FAIL; a FAIL while the machine starved a VM is run again.
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
import { applyStarvation, describeStarved } from './starved.js';
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

/** One attempt: its record, its directory, and the stretch when its FAIL became an ERROR because this machine starved a VM. */
async function attempt(spec: ScenarioSpec, o: RunOptions, driver: LabDriver): Promise<{ result: RunResult; runDir: string; starved?: StarvedStretch }> {
  const ctx = createContext(spec, o, driver);
  await mkdir(ctx.runDir, { recursive: true });
  try {
    await runPhases(ctx, planFor(spec));
    const starved = applyStarvation(ctx);
    return { result: runResult(ctx), runDir: ctx.runDir, starved };
  } catch (err) {
    return { result: await errorResult(ctx, err), runDir: ctx.runDir };
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
 * Runs one scenario on one kernel. A run that FAILed while this machine starved a VM
 * (starved.ts) is run once more, in the same run directory, the first attempt's files
 * moved into FIRST_ATTEMPT_DIR; the second attempt's record is the run's, starved
 * again or not, its reason saying so first.
 */
export async function runScenario(spec: ScenarioSpec, o: RunOptions, driver: LabDriver = qemuLab): Promise<RunResult> {
  const first = await attempt(spec, o, driver);
  if (first.starved === undefined) return first.result;
  o.log?.warn({ scenario: spec.name, kernel: o.kernel, reason: first.result.reason }, 'starved run, running it again');
  o.progress?.(`${spec.name} [${o.kernel}]: ERROR: ${first.result.reason}; running it again`);
  await setAsideFirstAttempt(first.runDir);
  const second = (await attempt(spec, o, driver)).result;
  return { ...second, reason: `second attempt (the first FAILed while ${describeStarved(first.starved)}; its files are in ${FIRST_ATTEMPT_DIR}/): ${second.reason}` };
}
