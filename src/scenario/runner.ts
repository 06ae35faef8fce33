// Runs one scenario on one kernel: walks the scenario's phases (phases/plan.ts) over one
// run context, timing each, and turns the result into the run's record. Harness
// failures become ERROR, never FAIL. What each phase does is in phases/.
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createContext, type RunContext, type RunOptions } from './context.js';
import type { LabDriver } from './lab.js';
import type { Phase } from './phases/phase.js';
import { planFor } from './phases/plan.js';
import { qemuLab } from './real-lab.js';
import { errorResult, runResult } from './result.js';
import type { ScenarioSpec } from './spec.js';
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

export async function runScenario(spec: ScenarioSpec, o: RunOptions, driver: LabDriver = qemuLab): Promise<RunResult> {
  const ctx = createContext(spec, o, driver);
  await mkdir(ctx.runDir, { recursive: true });
  try {
    await runPhases(ctx, planFor(spec));
    return runResult(ctx);
  } catch (err) {
    return errorResult(ctx, err);
  }
}
