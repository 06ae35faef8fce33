// Watch: after the last reset, only watch. The scenario's expectation says what to wait
// for: the controller live again with I/O completing (recovers), or the controller gone
// (deleted). Either, or the recovery deadline; the verdict is decided later from the
// whole record, this only decides when to stop waiting. A controller that is waited on
// to recover but has been deleted cannot come back when nothing in the scenario
// connects again: that is certain at once, so the wait ends then, not at the deadline.
// So is a FAIL from a scenario's admin action that failed (verdict.ts): no wait at all.
// So is a target-side reset after which the target does not listen on the controller's
// port again within relisten_within_ms: every connect would be refused (port-listeners.ts).
import { need } from '../context.js';
import type { LabAgent } from '../../orchestrate/nvme-lab.js';
import { ioAfter } from '../loader.js';
import type { AdminAction, ScenarioSpec } from '../spec.js';
import { decidingAdminFailure } from '../verdict.js';
import { controllerPhase, type Phase } from './phase.js';
import { DELETION_CHECK_MS, GUEST_STATE_POLL_MS, MIN_IO_WAIT_MS, RELISTEN_POLL_MS } from '../../util/timeouts.js';
import { watchRelisten, type RelistenWatch } from '../port-listeners.js';
import type { RunContext } from '../context.js';
import type { RunLab } from '../lab.js';


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

/**
 * Whether the scenario's admin action could make the deleted controller exist again.
 * None of today's does (none connects); a new action must say, or this fails to compile.
 */
const RECREATES_CONTROLLER: Record<AdminAction, boolean> = {
  'delete-controller': false,
  'reset-controller': false,
  'unload-host-module': false,
  'remove-target-port': false,
  'recreate-target-port': false,
  'add-unrelated-rdma-devices': false,
};

/** Whether a deleted host controller stays deleted for the rest of the run. */
export function deletionIsFinal(spec: Pick<ScenarioSpec, 'admin'>): boolean {
  return spec.admin === undefined || !RECREATES_CONTROLLER[spec.admin.action];
}


type Outcome = 'reached' | 'deleted' | 'deadline' | 'decided';

/**
 * Waits up to deadlineMs for the expectation's state on `ctrl`. With `deletionEnds`, a
 * controller found deleted ends the wait at once; `decided` (polled as often) ends it
 * when it says the run is decided otherwise. Both are looked at every DELETION_CHECK_MS.
 */
export async function waitForState(
  agent: LabAgent,
  ctrl: string,
  want: Expectation,
  deadlineMs: number,
  deletionEnds: boolean,
  decided?: () => boolean,
): Promise<Outcome> {
  const start = Date.now();
  const chunk = deletionEnds || decided !== undefined ? DELETION_CHECK_MS : deadlineMs;
  const deleted = async (): Promise<boolean> => deletionEnds && !(await agent.fs().exists(`/sys/class/nvme/${ctrl}`));
  // Often deleted while the device was away (stock): known before any wait.
  if (await deleted()) return 'deleted';
  for (;;) {
    const left = deadlineMs - (Date.now() - start);
    const ok = await agent.waitFor(`/sys/class/nvme/${ctrl}/state`, want.test, want.value, Math.max(1, Math.min(chunk, left)), GUEST_STATE_POLL_MS).then(
      () => true,
      () => false,
    );
    if (ok) return 'reached';
    if (Date.now() - start >= deadlineMs) return 'deadline';
    if (await deleted()) return 'deleted';
    if (decided?.()) return 'decided';
  }
}

/**
 * A target-side reset's port, seen listening before it: the target must listen on it
 * again (port-listeners.ts); watched alongside the controller.
 */
function startRelisten(ctx: RunContext, lab: RunLab): RelistenWatch | undefined {
  if (ctx.listenedBefore === undefined) return undefined;
  return watchRelisten(lab.target.agent, ctx.listenedBefore, ctx.nowMs, ctx.spec.relisten_within_ms, RELISTEN_POLL_MS);
}

export const watch: Phase = controllerPhase('watch', async (ctx, { lab, ctrl }) => {
  const loader = need(ctx.loader, 'the loader');
  const failed = decidingAdminFailure(ctx.admin.map((a) => a.outcome));
  if (failed) {
    ctx.reachedExpected = false;
    ctx.say(`the administrator's "${failed.what}" failed, which makes the run a FAIL: not waiting out the deadline; finishing the load`);
    return;
  }
  const deadline = ctx.spec.recovery_deadline_ms;
  const want = EXPECTATIONS[ctx.spec.expect.controller];
  const ioAtBack = await loader.completed().catch(() => 0);
  const backAt = Date.now();
  // Waiting for "absent" already ends at a deletion.
  const deletionEnds = want.test !== 'absent' && deletionIsFinal(ctx.spec);
  const relisten = startRelisten(ctx, lab);
  // A target-side reset: the port not listening again decides the run, in the wait for
  // the controller's state and in the wait for I/O after it (the host may still say
  // live, not having noticed the reset: stock target-pci-rebind).
  const deaf = relisten && ((): boolean => relisten.record.deafMs !== undefined);
  const outcome = await waitForState(lab.host.agent, ctrl.device, want, deadline, deletionEnds, deaf);
  let reached = outcome === 'reached';
  let stalled = false;
  if (reached && want.io) {
    const left = Math.max(MIN_IO_WAIT_MS, deadline - (Date.now() - backAt));
    stalled = !(await ioAfter(loader, ioAtBack, left, deaf));
    reached = !stalled;
  }
  await relisten?.stop();
  if (relisten) {
    ctx.relisten = relisten.record;
    ctx.log.info({ run: ctx.runName, relisten: relisten.record }, "the target's port after the reset");
  }
  ctx.reachedExpected = reached;
  const state = reached
    ? want.reached
    : deaf?.()
      ? `not recovered, and the target is not listening on ${relisten?.record.port ?? 'its port'} ${ctx.spec.relisten_within_ms / 1000} s after the device came back: not waiting out the deadline`
      : stalled
        ? 'live but no I/O completed'
        : outcome === 'deleted'
          ? 'deleted, and nothing in the scenario connects again: not waiting out the deadline'
          : 'not recovered';
  ctx.say(`controller ${state}; finishing the load`);
});
