// Reconnect-reset (during: reconnect): the host's device removed while its controller's
// reconnect is still resolving the target's address (reconnect-removal.ts says why).
// The target stops answering ARP, the host forgets its neighbours, a controller reset
// starts the reconnect, and inject_after_ms after the controller reads "connecting" the
// host's rxe device is deleted in its own process. A removal that returns: ARP is
// answered again and the device is back after down_ms, and the watch phase judges the recovery. One
// that does not return within removal_within_ms (then ARP answered again, and a few
// seconds more) is recorded with the guest's blocked tasks, and the run ends there: a
// device that is half removed cannot be added again, and I/O on the controller can
// never complete, so the loader is left alone.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RXE } from '../../orchestrate/nvme-lab.js';
import { sleep } from '../../util/deadline.js';
import { RXE_DELLINK_MS, STUCK_CONFIRM_MS } from '../../util/timeouts.js';
import { blockedTasks, describeTask } from '../blocked-tasks.js';
import { need, recordAdmin, type RunContext } from '../context.js';
import type { RunLab } from '../lab.js';
import {
  checkRemoval,
  flushNeighbours,
  holdArp,
  readTaskStacks,
  releaseArp,
  removeInOwnProcess,
  settlesWithin,
  startControllerReset,
  waitConnecting,
  type RemovalRecord,
  type ResetWrite,
} from '../reconnect-removal.js';
import { controllerPhase, type Phase } from './phase.js';

/** The reset write's outcome, recorded when it settles (stock: never, while the reconnect hangs). */
function recordResetWrite(ctx: RunContext, lab: RunLab, controller: string, write: Promise<ResetWrite>): void {
  const what = `echo 1 > /sys/class/nvme/${controller}/reset_controller (before the removal, to start a reconnect)`;
  void write.then((w) => {
    // A removal that never returned ends the run; the write then settles only as the VM goes.
    if (ctx.labClosed || ctx.removal?.stuck) return;
    recordAdmin(ctx, lab.host.name, { action: 'reset-controller', what, ok: w.ok, ...(w.error ? { error: w.error } : {}) });
  });
}

/** The removal did not return: what waits, saved in full and kept short for the verdict. */
async function recordStuck(ctx: RunContext, lab: RunLab, rec: RemovalRecord): Promise<void> {
  const stacks = await readTaskStacks(lab.host.agent);
  const blocked = blockedTasks(stacks);
  const full = stacks.filter((s) => blocked.some((b) => b.pid === s.pid)).map((s) => `== ${s.comm} (pid ${s.pid})\n${s.stack}`);
  await writeFile(join(ctx.runDir, 'blocked-tasks.txt'), `${full.join('\n')}\n`);
  ctx.removal = { ...rec, stuck: { waitedMs: Math.round(ctx.nowMs() - rec.goneMs), blocked: blocked.map((b) => describeTask(b)) } };
  ctx.endMs = ctx.nowMs();
  ctx.reachedExpected = false;
  ctx.say(`the removal has not returned after ${((ctx.nowMs() - rec.goneMs) / 1000).toFixed(1)} s; ${blocked.length} task(s) wait in the RDMA or NVMe layers`);
}

export const reconnectReset: Phase = controllerPhase('reconnect-reset', async (ctx, { lab, ctrl }) => {
  const { spec } = ctx;
  const rc = need(spec.reconnect, 'the reconnect settings');
  const plan = lab.resetPlan(spec);
  const arpBefore = rc.hold_arp ? await holdArp(lab.target.agent) : undefined;
  if (rc.hold_arp) await flushNeighbours(lab.host.agent);
  const resetMs = ctx.nowMs();
  const outageMs = rc.removal_within_ms + STUCK_CONFIRM_MS + spec.down_ms + spec.recovery_deadline_ms;
  recordResetWrite(ctx, lab, ctrl.device, startControllerReset(lab.host.agent, ctrl.device, outageMs, ctx.nowMs));
  // The reset write was the scenario's; from here on nothing may act on the NVMe layer.
  for (const m of lab.machines) m.agent.guard.arm();
  await waitConnecting(lab.host.agent, ctrl.device);
  const connectingMs = ctx.nowMs();
  await sleep(spec.inject_after_ms);
  const goneMs = ctx.nowMs();
  ctx.say(`controller ${ctrl.device} reconnecting${rc.hold_arp ? ' with ARP held' : ''}; rdma link delete ${RXE} on ${plan.vms.join(', ')} ${Math.round(goneMs - connectingMs)} ms after it read "connecting"`);
  const removal = removeInOwnProcess(lab.host.agent, RXE_DELLINK_MS);
  const rec: RemovalRecord = { resetMs, connectingMs, goneMs };
  if (!(await settlesWithin(removal, rc.removal_within_ms))) {
    if (arpBefore !== undefined) await releaseArp(lab.target.agent, arpBefore);
    if (!(await settlesWithin(removal, STUCK_CONFIRM_MS))) {
      removal.catch(() => undefined);
      return recordStuck(ctx, lab, rec);
    }
  }
  checkRemoval(await removal);
  ctx.removal = { ...rec, tookMs: Math.round(ctx.nowMs() - goneMs) };
  await sleep(Math.max(0, spec.down_ms - (ctx.nowMs() - goneMs)));
  // ARP first: an attempt that starts resolving once the device is back must get its answer.
  if (arpBefore !== undefined) await releaseArp(lab.target.agent, arpBefore);
  await plan.restore();
  ctx.resets.push({ goneMs, backMs: ctx.nowMs(), triggerMs: ctx.removal.tookMs });
});

/** The phases after the reset, only when the removal returned (a stuck one ended the run's I/O part). */
export function unlessRemovalStuck(p: Phase): Phase {
  return { ...p, when: (ctx) => ctx.removal?.stuck === undefined && (p.when?.(ctx) ?? true) };
}
