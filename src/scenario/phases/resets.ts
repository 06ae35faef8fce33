// Resets: the RDMA resource counts taken (unless the load phase took them), then from
// here on only the injector's device-level steps (and the scenario's own admin action,
// recorded) may act. The device goes away and comes back `resets` times;
// what happens while it is away is the scenario's outage strategy: nothing, or an
// administrator's action part-way through and a step once it is back. Either way the
// device stays away down_ms unless the run is decided first (a deletion the verdict
// FAILs whatever follows, or an admin step that failed): then it comes back at once.
import { sleep } from '../../util/deadline.js';
import { BETWEEN_RESETS_LIVE_MS, DELETION_CHECK_MS, STUCK_TRIGGER_GRACE_MS } from '../../util/timeouts.js';
import { agentsWarm, toolMachines } from '../agents-warm.js';
import { adminSide, afterRestore, performAdmin, prepareAdmin } from '../admin-actions.js';
import { need, recordAdmin, type RunContext } from '../context.js';
import type { ScenarioSpec } from '../spec.js';
import type { RunLab } from '../lab.js';
import { snapshotResources } from '../rdma-resources.js';
import { saveBlockedTasks, stuckBehindDeletion } from '../stuck-reset.js';
import { controllerPhase, type Phase } from './phase.js';
import { deletionIsFinal, EXPECTATIONS, waitForState } from './watch.js';
import { decidingAdminFailure, earlyDeletion } from '../verdict.js';

/** What happens before the first reset, while the device is away (reset `i`, 0-based, gone at `goneMs` run time) and right after it is back. */
export interface Outage {
  prepare?(ctx: RunContext): Promise<void>;
  away(ctx: RunContext, i: number, goneMs: number): Promise<void>;
  back(ctx: RunContext, i: number): Promise<void>;
}

/**
 * The time the verdict's own record of a deletion (the timeline's sample) may lag the
 * outage's check of it, and more: a deletion is taken as too early only when it was seen
 * this long before the limit (stock deletes 0.2-0.5 s in; the limits are seconds).
 */
export const EARLY_DELETION_MARGIN_MS = 1_000;

/**
 * Whether the watched controller, seen deleted `afterMs` after the device went away,
 * makes the run a FAIL whatever happens next (pure; the verdict's rules): it was to
 * recover and nothing in the scenario connects again (endsAtDeletion), or it was to be
 * deleted but this is too early (verdict.ts earlyDeletion: before the administrator's
 * deleting action, or before ctrl_loss_tmo could run out), with the margin to spare.
 */
export function deletionDecides(spec: ScenarioSpec, afterMs: number): boolean {
  if (endsAtDeletion(spec)) return true;
  return spec.expect.controller === 'deleted' && deletionIsFinal(spec) && earlyDeletion(spec, afterMs + EARLY_DELETION_MARGIN_MS) !== undefined;
}

/** Whether a deletion during the outage could decide the run at all, so it is worth checking for. */
function deletionMayDecide(spec: ScenarioSpec): boolean {
  return deletionDecides(spec, 0);
}

/**
 * No one acts: the device stays away down_ms, or less when the watched controller is
 * deleted meanwhile in a way that decides the run (deletionDecides). The verdict is
 * certain then (stock 6.1 deletes 0.2-0.5 s into the outage), so the device comes back at
 * once instead of after the rest of down_ms: the watch and the finish then find the
 * controller gone, as they would have down_ms later.
 */
export const quietOutage: Outage = {
  away: async (ctx, _i, goneMs) => {
    await awayUnlessDecided(ctx, goneMs, ctx.spec.down_ms);
  },
  back: async () => {},
};

/**
 * Up to `ms` from now, the host's controller checked every DELETION_CHECK_MS when a
 * deletion may decide the run; true (and said) when one did. Never longer than `ms` for
 * the checks: the last stretch shorter than a check is slept, and each check's deadline is
 * what is left. A check that fails (the agent slow or refusing) is not a deletion, and a
 * deletion that decides nothing (on time) ends the checks: the rest is slept.
 */
async function awayUnlessDecided(ctx: RunContext, goneMs: number, ms: number): Promise<boolean> {
  if (!deletionMayDecide(ctx.spec)) {
    await sleep(ms);
    return false;
  }
  const agent = need(ctx.lab, 'the lab').host.agent;
  const ctrl = need(ctx.ctrl, 'the controller').device;
  const start = Date.now();
  const left = () => ms - (Date.now() - start);
  while (left() > DELETION_CHECK_MS) {
    await sleep(DELETION_CHECK_MS);
    const exists = await agent.fs(Math.max(1, left())).exists(`/sys/class/nvme/${ctrl}`).catch(() => true);
    if (exists) continue;
    const afterMs = ctx.nowMs() - goneMs;
    if (!deletionDecides(ctx.spec, afterMs)) break;
    ctx.say(`${ctrl} was deleted ${(afterMs / 1000).toFixed(1)} s after the device went away, which makes the run a FAIL whatever follows: the device comes back now, not after down_ms`);
    return true;
  }
  await sleep(Math.max(0, left()));
  return false;
}

/**
 * The administrator acts after_ms into the first outage (one step or several, each
 * recorded as it happens), and again once the device is back if the action needs it.
 * The device stays away down_ms in all, however long the steps took, unless the run is
 * decided first: the controller deleted in a way that decides it (then the administrator
 * does not act at all), or a step failed in a way that does (verdict.ts decidingAdminFailure).
 */
export function adminOutage(admin: NonNullable<ScenarioSpec['admin']>): Outage {
  let acted = false;
  return {
    prepare: (ctx) => prepareAdmin(need(ctx.lab, 'the lab'), admin),
    async away(ctx, i, goneMs) {
      if (i > 0) return sleep(ctx.spec.down_ms);
      const started = Date.now();
      const lab = need(ctx.lab, 'the lab');
      const vm = lab[adminSide(admin.action)].name;
      if (await awayUnlessDecided(ctx, goneMs, admin.after_ms)) return;
      acted = true;
      const outcomes = await performAdmin(lab, admin, need(ctx.ctrl, 'the controller').device, (o) => recordAdmin(ctx, vm, o));
      const failed = decidingAdminFailure(outcomes);
      if (failed) {
        ctx.say(`the administrator's "${failed.what}" failed, which makes the run a FAIL: the device comes back now, not after down_ms`);
        return;
      }
      await awayUnlessDecided(ctx, goneMs, Math.max(0, ctx.spec.down_ms - (Date.now() - started)));
    },
    async back(ctx, i) {
      if (i > 0 || !acted) return;
      const lab = need(ctx.lab, 'the lab');
      const outcome = await afterRestore(lab, admin, need(ctx.ctrl, 'the controller').device);
      if (outcome) recordAdmin(ctx, lab[adminSide(admin.action)].name, outcome);
    },
  };
}

export function outageFor(spec: ScenarioSpec): Outage {
  return spec.admin ? adminOutage(spec.admin) : quietOutage;
}

/**
 * Whether a trigger that blocks behind the controller's deletion may end the run
 * (stuck-reset.ts): when the scenario waits for a recovery that a deletion rules out for
 * good. Whatever the topology: on multipath the watched controller is the reset path's
 * and every path must be live at the end (judgePaths); with extra controllers the
 * loaded one must recover first, and their judge says how each in-flight connect stood
 * (inFlightAtEarlyEnd). Stock 6.1's DELLINK under two-ctrl-connecting blocked over 150 s.
 */
export function endsAtDeletion(spec: ScenarioSpec): boolean {
  return spec.expect.controller === 'recovers' && deletionIsFinal(spec);
}

/** Waits for the trigger; true when the run ended instead, its controller being deleted (recorded). */
async function endedBehindDeletion(ctx: RunContext, lab: RunLab, ctrl: string, trigger: Promise<void>, goneMs: number): Promise<boolean> {
  const state = endsAtDeletion(ctx.spec)
    ? await stuckBehindDeletion(trigger, lab.host.agent, ctrl, { graceMs: STUCK_TRIGGER_GRACE_MS, pollMs: DELETION_CHECK_MS })
    : undefined;
  if (state === undefined) {
    await trigger;
    return false;
  }
  trigger.catch(() => undefined); // it returns, or fails, after the run
  const waitedMs = Math.round(ctx.nowMs() - goneMs);
  const blocked = await saveBlockedTasks(lab.host.agent, ctx.runDir);
  ctx.stuckReset = { goneMs, waitedMs, state, blocked };
  ctx.endMs = ctx.nowMs();
  ctx.reachedExpected = false;
  ctx.say(`the reset has not returned after ${(waitedMs / 1000).toFixed(1)} s and ${ctrl} is ${state}: it cannot come back, so the run ends here (${blocked.length} task(s) wait in the RDMA or NVMe layers)`);
  return true;
}

/**
 * Between two resets: lets the controller come back (or not) before the next, up to
 * BETWEEN_RESETS_LIVE_MS. True when it was deleted for good instead (endsAtDeletion):
 * stock's repeated-resets spent 97 s on 19 more resets of a controller gone after the first.
 */
async function deletedBetweenResets(ctx: RunContext, lab: RunLab, ctrl: string): Promise<boolean> {
  return (await waitForState(lab.host.agent, ctrl, EXPECTATIONS.recovers, BETWEEN_RESETS_LIVE_MS, endsAtDeletion(ctx.spec))) === 'deleted';
}

export const resets: Phase = controllerPhase('resets', async (ctx, { lab, ctrl }) => {
  const { spec } = ctx;
  const plan = lab.resetPlan(spec);
  const outage = outageFor(spec);
  await outage.prepare?.(ctx);
  // What the connected controllers hold, to compare with after the run (collect), unless
  // the load phase counted it during pre_ms.
  ctx.rdmaBefore ??= (await snapshotResources(lab)).totals;
  await agentsWarm(toolMachines(lab, spec));
  for (const m of lab.machines) m.agent.guard.arm();
  for (let i = 0; i < spec.resets; i++) {
    const goneMs = ctx.nowMs();
    ctx.say(`reset ${i + 1}/${spec.resets}: ${plan.describe} (${plan.vms.join(', ')})`);
    if (await endedBehindDeletion(ctx, lab, ctrl.device, plan.trigger(), goneMs)) return;
    const triggerMs = ctx.nowMs() - goneMs;
    await outage.away(ctx, i, goneMs);
    await plan.restore();
    ctx.resets.push({ goneMs, backMs: ctx.nowMs(), triggerMs });
    await outage.back(ctx, i);
    if (i + 1 < spec.resets && (await deletedBetweenResets(ctx, lab, ctrl.device))) {
      ctx.say(`${ctrl.device} was deleted after reset ${i + 1} and nothing connects again: the other ${spec.resets - i - 1} reset(s) are not run`);
      break;
    }
  }
});
