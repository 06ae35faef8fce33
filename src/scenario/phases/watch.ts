// Watch: after the last reset, only watch. The scenario's expectation says what to wait
// for: the controller live again with I/O completing (recovers), or the controller gone
// (deleted). Either, or the recovery deadline; the verdict is decided later from the
// whole record, this only decides when to stop waiting.
import { need } from '../context.js';
import { ioAfter } from '../loader.js';
import type { ScenarioSpec } from '../spec.js';
import { hasController, type Phase } from './phase.js';

/** The least time left to see I/O complete once the controller is live again. */
const MIN_IO_WAIT_MS = 1000;
/** How often the agent samples the controller state while waiting. */
const STATE_POLL_MS = 20;

export interface Expectation {
  /** The agent's waitFor test on /sys/class/nvme/<ctrl>/state. */
  test: 'equals' | 'absent';
  value?: string;
  /** Whether I/O must complete again too. */
  io: boolean;
  /** What the controller did, when it did it. */
  reached: string;
}

export const EXPECTATIONS: Record<ScenarioSpec['expect']['controller'], Expectation> = {
  // "live" alone proves nothing after a target-side reset: the host may not have
  // noticed the outage yet. Recovered means I/O completes again.
  recovers: { test: 'equals', value: 'live', io: true, reached: 'live, I/O completing' },
  deleted: { test: 'absent', io: false, reached: 'deleted' },
};

export const watch: Phase = {
  name: 'watch',
  when: hasController,
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const ctrl = need(ctx.ctrl, 'the controller');
    const loader = need(ctx.loader, 'the loader');
    const deadline = ctx.spec.recovery_deadline_ms;
    const want = EXPECTATIONS[ctx.spec.expect.controller];
    const ioAtBack = await loader.completed().catch(() => 0);
    const backAt = Date.now();
    let reached = await lab.host.agent
      .waitFor(`/sys/class/nvme/${ctrl.device}/state`, want.test, want.value, deadline, STATE_POLL_MS)
      .then(() => true, () => false);
    let stalled = false;
    if (reached && want.io) {
      const left = Math.max(MIN_IO_WAIT_MS, deadline - (Date.now() - backAt));
      stalled = !(await ioAfter(loader, ioAtBack, left));
      reached = !stalled;
    }
    ctx.reachedExpected = reached;
    const state = reached ? want.reached : stalled ? 'live but no I/O completed' : 'not recovered';
    ctx.say(`controller ${state}; finishing the load`);
  },
};
