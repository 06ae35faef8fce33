// What a phase of a run is: a name (for phases_ms and the log), when it applies, and
// what it does to the run's context. The runner walks a list of them (plan.ts).
import type { RunContext } from '../context.js';

export interface Phase {
  name: string;
  /** Whether the phase applies to this run as it stands; absent: always. */
  when?(ctx: RunContext): boolean;
  run(ctx: RunContext): Promise<void>;
}

/** For phases that need the host's controller: none when a racing connect left none. */
export const hasController = (ctx: RunContext): boolean => ctx.ctrl !== undefined;
