// What a phase of a run is: a name (for phases_ms and the log), when it applies, and
// what it does to the run's context. The runner walks a list of them (plan.ts).
import type { HostController } from '../../orchestrate/nvme-lab.js';
import { need, type RunContext } from '../context.js';
import type { RunLab } from '../lab.js';

export interface Phase {
  name: string;
  /** Whether the phase applies to this run as it stands; absent: always. */
  when?(ctx: RunContext): boolean;
  run(ctx: RunContext): Promise<void>;
}

/** For phases that need the host's controller: none when a racing connect left none. */
export const hasController = (ctx: RunContext): boolean => ctx.ctrl !== undefined;

/**
 * A phase that works on the host's connected controller (load, resets, watch, finish):
 * skipped when there is none, and given the lab and the controller, which must be there.
 */
export function controllerPhase(name: string, run: (ctx: RunContext, on: { lab: RunLab; ctrl: HostController }) => Promise<void>): Phase {
  return {
    name,
    when: hasController,
    run: (ctx) => run(ctx, { lab: need(ctx.lab, 'the lab'), ctrl: need(ctx.ctrl, 'the controller') }),
  };
}

/**
 * Whether the run's I/O part ended early with its verdict certain: a device removal
 * (during: reconnect) or a reset's trigger (stuck-reset.ts) that never returned.
 */
export const endedEarly = (ctx: RunContext): boolean => ctx.removal?.stuck !== undefined || ctx.stuckReset !== undefined || ctx.race?.stuck !== undefined;

/** A phase after the reset: skipped once the run has ended early. */
export function unlessEnded(p: Phase): Phase {
  return { ...p, when: (ctx) => !endedEarly(ctx) && (p.when?.(ctx) ?? true) };
}
