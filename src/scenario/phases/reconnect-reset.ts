// Reconnect-reset (during: reconnect): the host's device removed while its controller's
// reconnect is still resolving the target's address (reconnect-removal.ts says why).
// The target stops answering ARP and the host forgets its neighbours; the keep-alive
// times out, error recovery starts a reconnect, and reconnect_delay + inject_after_ms
// after the controller reads "connecting" (its first attempt resolving the address) the
// host's rxe device is deleted in its own process. No admin action. A removal that returns: ARP is
// answered again and the device is back after down_ms, and the watch phase judges the recovery. One
// that does not return within removal_within_ms (then ARP answered again, and a few
// seconds more) is recorded with the guest's blocked tasks, and the run ends there: a
// device that is half removed cannot be added again, and I/O on the controller can
// never complete, so the loader is left alone.
import { RXE } from '../../orchestrate/nvme-lab.js';
import { settlesWithin, sleep } from '../../util/deadline.js';
import { RXE_DELLINK_MS, STUCK_CONFIRM_MS } from '../../util/timeouts.js';
import { need, type RunContext } from '../context.js';
import type { RunLab } from '../lab.js';
import {
  checkRemoval,
  flushNeighbours,
  holdArp,
  releaseArp,
  removeInOwnProcess,
  waitConnecting,
  type RemovalRecord,
} from '../reconnect-removal.js';
import { saveBlockedTasks } from '../stuck-reset.js';
import { controllerPhase, type Phase } from './phase.js';

/** The removal did not return: what waits, saved in full and kept short for the verdict. */
async function recordStuck(ctx: RunContext, lab: RunLab, rec: RemovalRecord): Promise<void> {
  const blocked = await saveBlockedTasks(lab.host.agent, ctx.runDir);
  ctx.removal = { ...rec, stuck: { waitedMs: Math.round(ctx.nowMs() - rec.goneMs), blocked } };
  ctx.endMs = ctx.nowMs();
  ctx.reachedExpected = false;
  ctx.say(`the removal has not returned after ${((ctx.nowMs() - rec.goneMs) / 1000).toFixed(1)} s; ${blocked.length} task(s) wait in the RDMA or NVMe layers`);
}

export const reconnectReset: Phase = controllerPhase('reconnect-reset', async (ctx, { lab, ctrl }) => {
  const { spec } = ctx;
  const rc = need(spec.reconnect, 'the reconnect settings');
  const plan = lab.resetPlan(spec);
  // No admin action at all: from here on nothing may act on the NVMe layer.
  for (const m of lab.machines) m.agent.guard.arm();
  const heldMs = ctx.nowMs();
  const arpBefore = await holdArp(lab.target.agent);
  await flushNeighbours(lab.host.agent);
  ctx.say(`ARP held back on the target, the host's neighbours flushed; waiting for ${ctrl.device} to reconnect`);
  await waitConnecting(lab.host.agent, ctrl.device);
  const connectingMs = ctx.nowMs();
  // The first attempt (its admin queue resolving the address) starts reconnect_delay later.
  await sleep(spec.connect.reconnect_delay * 1000 + spec.inject_after_ms);
  const goneMs = ctx.nowMs();
  ctx.say(`controller ${ctrl.device} reconnecting; rdma link delete ${RXE} on ${plan.vms.join(', ')} ${Math.round(goneMs - connectingMs)} ms after it read "connecting"`);
  const removal = removeInOwnProcess(lab.host.agent, RXE_DELLINK_MS);
  const rec: RemovalRecord = { heldMs, connectingMs, goneMs };
  if (!(await settlesWithin(removal, rc.removal_within_ms))) {
    await releaseArp(lab.target.agent, arpBefore);
    if (!(await settlesWithin(removal, STUCK_CONFIRM_MS))) {
      removal.catch(() => undefined);
      return recordStuck(ctx, lab, rec);
    }
  }
  checkRemoval(await removal);
  ctx.removal = { ...rec, tookMs: Math.round(ctx.nowMs() - goneMs) };
  await sleep(Math.max(0, spec.down_ms - (ctx.nowMs() - goneMs)));
  // ARP first: an attempt that starts resolving once the device is back must get its answer.
  await releaseArp(lab.target.agent, arpBefore);
  await plan.restore();
  ctx.resets.push({ goneMs, backMs: ctx.nowMs(), triggerMs: ctx.removal.tookMs });
});

