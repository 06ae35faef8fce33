// A run context over a fake lab, for testing one phase at a time: the phases before the
// one under test are run for real (against the fake), so each test starts from the
// state a real run would be in.
import { mkdirSync } from 'node:fs';
import { createContext, type RunContext } from '../../src/scenario/context.js';
import type { Phase } from '../../src/scenario/phases/phase.js';
import { runPhases } from '../../src/scenario/runner.js';
import { parseScenario, type ScenarioInput, type ScenarioSpec } from '../../src/scenario/spec.js';
import { FakeLab, type FakeLabOptions } from './fake-lab.js';
import { tempDirSync } from './temp-dir.js';

/** A scenario with short times, so a whole run takes about a second. */
export function quickSpec(over: Partial<ScenarioInput> = {}): ScenarioSpec {
  return parseScenario({ name: 'quick', side: 'host', reset: 'rdma-link', down_ms: 100, pre_ms: 500, post_ms: 500, recovery_deadline_ms: 1000, ...over });
}

export interface FakeRun {
  ctx: RunContext;
  fake: FakeLab;
  /** The progress lines said so far. */
  said: string[];
}

/** A context on a fresh fake lab, after `before` ran. */
export async function fakeRun(spec: ScenarioSpec, lab: FakeLabOptions = {}, before: Phase[] = []): Promise<FakeRun> {
  const fake = new FakeLab(lab);
  const said: string[] = [];
  const resultsDir = tempDirSync('rb-phase-');
  const ctx = createContext(spec, { kernel: 'patched', resultsDir, iteration: 1, project: '/project', progress: (m) => said.push(m) }, fake.driver());
  mkdirSync(ctx.runDir, { recursive: true });
  await runPhases(ctx, before);
  return { ctx, fake, said };
}
