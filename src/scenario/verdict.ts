// PASS, FAIL or SKIP, with a reason a person understands. ERROR is decided by the
// runner (the harness failed), never here.
import type { AdminAction, ScenarioSpec } from './spec.js';
import { controllerStates, stateAt, type ResetWindow } from './metrics.js';
import type { Metrics, TimelineEvent, Verdict } from './types.js';
import type { AdminOutcome } from './admin-actions.js';
import type { ConnectRace } from './connect-race.js';
import { stuckWhere, type LogLine } from './stuck-where.js';
import type { RemovalRecord } from './reconnect-removal.js';
import type { StuckReset } from './stuck-reset.js';
import { judgeRelisten, type RelistenRecord } from './port-listeners.js';

export interface VerdictInputs {
  spec: ScenarioSpec;
  metrics: Metrics;
  resets: ResetWindow[];
  events: TimelineEvent[];
  controller: string;
  endMs: number;
  firstSplat?: string;
  firstIoError?: string;
  /** reset-during-connect: how the racing connect went. */
  race?: ConnectRace;
  /** The scenario's deliberate admin actions, in order. */
  admin?: AdminOutcome[];
  /** EAGAIN completions the loader resubmitted (not I/O errors; see countIoErrors). */
  eagainRetried?: number;
  /** RDMA objects (restrack counts) that grew from before the reset to after the run, per VM. */
  rdmaGrowth?: string[];
  /** during: reconnect: the device removal made while the reconnect resolved the address. */
  removal?: RemovalRecord;
  /** A reset's trigger that had not returned when the controller was being deleted: the run ended there. */
  stuckReset?: StuckReset;
  /** A target-side reset: whether and when the target listened on the controller's port again. */
  relisten?: RelistenRecord;
  /** The kernel logs (run ms): where a controller that never came back is stuck. */
  kmsg?: { host: readonly LogLine[]; target?: readonly LogLine[] };
}

const s = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/**
 * Whether the action is what deletes the controller, so that a deletion is judged
 * against the administrator's time; the others (a reset, a port change, devices added)
 * leave the deletion to ctrl_loss_tmo. A new action must say, or this fails to compile.
 */
export const ADMIN_DELETES: Record<AdminAction, boolean> = {
  'delete-controller': true,
  'unload-host-module': true,
  'reset-controller': false,
  'remove-target-port': false,
  'recreate-target-port': false,
  'add-unrelated-rdma-devices': false,
};

/**
 * Why a deletion `afterMs` after the device went away came too early for what the
 * scenario tests, or undefined. A deleting admin action comes `admin.after_ms` after the
 * device went away (plus the time the reset itself took); ctrl_loss_tmo runs out after
 * ctrl_loss_tmo / reconnect_delay failed attempts, so one reconnect_delay early is
 * still on time.
 */
export function earlyDeletion(spec: ScenarioSpec, afterMs: number): string | undefined {
  if (spec.admin && ADMIN_DELETES[spec.admin.action]) {
    return afterMs < spec.admin.after_ms ? `before the administrator acted (${s(spec.admin.after_ms)} in)` : undefined;
  }
  const { ctrl_loss_tmo: tmo, reconnect_delay: delay } = spec.connect;
  if (tmo <= 0) return undefined;
  return afterMs < (tmo - delay) * 1000 ? `before ctrl_loss_tmo=${tmo} s could run out` : undefined;
}

/**
 * hold_tx: how long each `modprobe -r rdma_rxe` with sent skbs held took (the trigger,
 * with the queue's set-up), and why that is a FAIL when one took longer than
 * unload_within_ms (pure).
 */
export function heldUnload(spec: Pick<ScenarioSpec, 'hold_tx'>, resets: readonly ResetWindow[]): { fail?: string; note: string } {
  if (!spec.hold_tx) return { note: '' };
  const took = resets.map((r) => r.triggerMs ?? 0);
  const longest = Math.max(0, ...took);
  const limit = spec.hold_tx.unload_within_ms;
  const what = `rdma_rxe's unload with sent skbs held in the netdev's queue took ${s(longest)}`;
  return { fail: longest > limit ? `${what}, more than unload_within_ms (${s(limit)}): module exit waited for the skbs` : undefined, note: `; ${what}` };
}

/** A connect attempt that nvme-rdma failed with ENETRESET: the removal ended its CM wait (patch 1). */
const ENDED_BY_REMOVAL = /rdma connection establishment failed \(-102\)/;
/** How nvme-rdma logs a connect attempt that failed before or in the CM exchange. */
const ATTEMPT_FAILED = /rdma connection establishment failed|rdma_resolve_addr failed|address resolution failed/;

/**
 * during: reconnect: a removal that never returned is a FAIL naming where the tasks wait;
 * one that returned says how long it took and how the attempt in flight ended: with
 * ENETRESET (the removal ended its CM wait, patch 1) or otherwise (e.g. the 3 s address
 * resolution timeout of a cm_id bound to no device), from the kernel log (pure).
 */
export function judgeRemoval(r: RemovalRecord, host: readonly LogLine[] | undefined): { fail?: string; note: string } {
  const into = `${Math.round(r.goneMs - r.connectingMs)} ms after the controller read "connecting" (ARP held back)`;
  if (r.stuck) {
    const waiting = r.stuck.blocked.length ? `; waiting: ${r.stuck.blocked.join('; ')}` : '; no task was found waiting in the RDMA or NVMe layers';
    return { fail: `the host's rdma link delete, sent ${into}, had not returned ${s(r.stuck.waitedMs)} later: the device removal hangs${waiting}`, note: '' };
  }
  const after = (host ?? []).filter((l) => l.ms >= r.goneMs).sort((a, b) => a.ms - b.ms);
  const ended = after.find((l) => ENDED_BY_REMOVAL.test(l.text)) ?? after.find((l) => ATTEMPT_FAILED.test(l.text));
  const how = !ended
    ? '; no connect attempt failure was logged after it'
    : ENDED_BY_REMOVAL.test(ended.text)
      ? `; the removal ended the reconnect's CM wait (${s(ended.ms - r.goneMs)} after it: "rdma connection establishment failed (-102)")`
      : `; the attempt in flight ended ${s(ended.ms - r.goneMs)} after it with "${ended.text.replace(/^nvme nvme\d+: /, '')}", not ENETRESET: the removal did not end its CM wait`;
  return { note: `; the removal, sent ${into}, took ${s(r.tookMs ?? 0)}${how}` };
}

/** What the kernel reported, as the tail of a reason ('' when nothing). */
function splatNote(v: Pick<VerdictInputs, 'metrics' | 'firstSplat'>): string {
  return v.metrics.splats > 0 ? `; the kernel reported: ${v.firstSplat ?? `${v.metrics.splats} problem(s)`}` : '';
}

/** A trigger that never returned while the controller was being deleted: certain, and said with where tasks wait (pure). */
export function stuckResetReason(v: Pick<VerdictInputs, 'spec' | 'controller'>, st: StuckReset): string {
  const waiting = st.blocked.length ? `; waiting: ${st.blocked.join('; ')}` : '; no task was found waiting in the RDMA or NVMe layers';
  return `the ${v.spec.side} ${v.spec.reset} reset had not returned ${s(st.waitedMs)} after it started, and controller ${v.controller} is ${st.state}: it cannot come back (nothing in the scenario connects again), so the run ended there${waiting}`;
}

/**
 * The first of the scenario's admin actions that failed in a way that decides the run: a
 * FAIL, whatever the controller does later. A refused reset-controller is not one (the
 * kernel may refuse it while the controller reconnects; recovery goes on).
 */
export function decidingAdminFailure(admin: readonly AdminOutcome[]): AdminOutcome | undefined {
  return admin.find((a) => !a.ok && a.action !== 'reset-controller');
}

export function decide(v: VerdictInputs): { verdict: Verdict; reason: string } {
  if (v.stuckReset) return { verdict: 'FAIL', reason: `${stuckResetReason(v, v.stuckReset)}${splatNote(v)}` };
  const removal = v.removal ? judgeRemoval(v.removal, v.kmsg?.host) : undefined;
  if (removal?.fail) return { verdict: 'FAIL', reason: `${removal.fail}${splatNote(v)}` };
  const j0 = decideRun(v);
  const j = removal && j0.verdict !== 'SKIP' ? { ...j0, reason: `${j0.reason}${removal.note}` } : j0;
  const held = heldUnload(v.spec, v.resets);
  if (held.fail && j.verdict !== 'SKIP') return { verdict: 'FAIL', reason: `${held.fail}; ${j.reason}` };
  return held.note ? { ...j, reason: `${j.reason}${held.note}` } : j;
}

function decideRun(v: VerdictInputs): { verdict: Verdict; reason: string } {
  const { metrics: m, controller: c } = v;
  const states = controllerStates(v.events, c);
  const firstGone = v.resets.length ? Math.min(...v.resets.map((r) => r.goneMs)) : 0;
  const lastBack = v.resets.length ? Math.max(...v.resets.map((r) => r.backMs)) : 0;
  const deletedAt = states.find(([t, st]) => t >= firstGone && st === 'absent')?.[0];
  const finalState = stateAt(states, v.endMs) ?? 'unknown';
  const splat = splatNote(v);

  if (v.race) return decideRace(v, v.race, splat);

  const admin = v.admin ?? [];
  const failedAdmin = decidingAdminFailure(admin);
  if (failedAdmin) {
    return { verdict: 'FAIL', reason: `the administrator's "${failedAdmin.what}" during recovery failed: ${failedAdmin.error}${splat}` };
  }
  const byAdmin = admin.length > 0 && v.spec.admin !== undefined && ADMIN_DELETES[v.spec.admin.action];
  const by = byAdmin ? `"${admin[0]!.what}"` : `ctrl_loss_tmo=${v.spec.connect.ctrl_loss_tmo} s`;
  if (v.spec.expect.controller === 'deleted') {
    if (deletedAt === undefined) return { verdict: 'FAIL', reason: `controller ${c} was expected to be deleted (${by}) but is ${finalState}${splat}` };
    const early = earlyDeletion(v.spec, deletedAt - firstGone);
    if (early) return { verdict: 'FAIL', reason: `controller ${c} deleted ${s(deletedAt - firstGone)} after the device went away, ${early}: it never waited to reconnect${splat}` };
    if (m.splats > 0) return { verdict: 'FAIL', reason: `controller ${c} deleted, but not cleanly${splat}` };
    return { verdict: 'PASS', reason: `controller ${c} deleted cleanly ${s(deletedAt - firstGone)} after the device went away (${by})` };
  }
  const adminNote = admin.length ? `; during recovery: ${admin.map((a) => `${a.what}: ${a.ok ? 'ok' : a.error}`).join(', ')}` : '';

  const noIo = m.recovery_ms === null ? '; no I/O completed after the reset' : '';
  if (deletedAt !== undefined) {
    return { verdict: 'FAIL', reason: `controller ${c} deleted ${s(deletedAt - firstGone)} after the device went away${noIo}${splat}` };
  }
  // A target-side reset: whether the target listens on the controller's port again (port-listeners.ts).
  const port = judgeRelisten(v.relisten);
  if (m.ctrl_live_ms === null) {
    const where = v.kmsg
      ? stuckWhere({ controller: c, state: finalState, host: v.kmsg.host, target: v.kmsg.target, sinceMs: firstGone, endMs: v.endMs }).text
      : '';
    const still = `controller ${c} still ${finalState} ${s(v.endMs - lastBack)} after the device came back${where}${noIo}${splat}`;
    return { verdict: 'FAIL', reason: port.fail ? `${port.fail}; ${still}` : `${still}${port.note}` };
  }
  if (m.recovery_ms === null) {
    const noIoAfter = `controller ${c} live again after ${s(m.ctrl_live_ms)}, but no I/O completed after the device came back${splat}`;
    return { verdict: 'FAIL', reason: port.fail ? `${port.fail}; ${noIoAfter}` : noIoAfter };
  }
  if (m.io_errors > 0 && v.spec.expect.io_errors === 'none') {
    return { verdict: 'FAIL', reason: `${m.io_errors} I/O error(s) during the reset${v.firstIoError ? ` (first: ${v.firstIoError})` : ''}${splat}` };
  }
  if (m.verify_errors > 0 || m.lost_writes > 0) {
    return { verdict: 'FAIL', reason: `data check failed: ${m.verify_errors} bad block(s), ${m.lost_writes} acknowledged write(s) lost${splat}` };
  }
  if (m.splats > 0) return { verdict: 'FAIL', reason: `I/O resumed, but the kernel reported: ${v.firstSplat ?? 'a problem'}` };
  const grown = leftoverObjects(v);
  if (grown) return { verdict: 'FAIL', reason: `I/O resumed, but the recovery left more RDMA objects than it found (${grown}): a queue held twice or leaked` };
  return {
    verdict: 'PASS',
    reason: `I/O resumed ${s(m.recovery_ms)} after the device came back (controller live after ${s(m.ctrl_live_ms)}); longest stall ${s(m.outage_ms ?? 0)}${v.resets.length > 1 ? ` over ${v.resets.length} resets` : ''}${port.note}${adminNote}${v.eagainRetried ? `; ${v.eagainRetried} EAGAIN completion(s) resubmitted` : ''}`,
  };
}

/**
 * The growth that counts against a recovery, or undefined. Not for a scenario that
 * connects a controller after the reset on purpose (extra_in_flight_ms: the in-flight
 * connect is refused and made again), whose new queues are not a leftover.
 */
function leftoverObjects(v: VerdictInputs): string | undefined {
  if (v.spec.extra_in_flight_ms !== undefined || !v.rdmaGrowth?.length) return undefined;
  return v.rdmaGrowth.join('; ');
}

/** reset-during-connect: the connect must be refused cleanly or survive, and I/O must then work. */
function decideRace(v: VerdictInputs, r: ConnectRace, splat: string): { verdict: Verdict; reason: string } {
  const m = v.metrics;
  if (r.stuck) {
    const waiting = r.stuck.blocked.length ? `; waiting: ${r.stuck.blocked.join('; ')}` : '; no task was found waiting in the RDMA or NVMe layers';
    return {
      verdict: 'FAIL',
      reason: `the ${v.spec.side} ${v.spec.reset} reset, ${r.injectAfterMs} ms into the connect (${r.inFlight ? 'still in flight' : 'which had returned'}), had not returned ${s(r.stuck.waitedMs)} later (allowed ${s(r.stuck.limitMs)}): the device removal hangs${r.inFlight ? ' behind the connect' : ''}${waiting}${splat}`,
    };
  }
  if (!r.inFlight) {
    return {
      verdict: 'SKIP',
      reason: `the connect had finished after ${s(r.connectMs)}, before the reset at ${r.injectAfterMs} ms: nothing raced (lower inject_after_ms)`,
    };
  }
  const first = r.first.ok ? `connect accepted as ${r.first.device} while the device went away ${r.injectAfterMs} ms in` : `connect refused during the reset (${r.first.error})`;
  if (m.splats > 0) return { verdict: 'FAIL', reason: `${first}${splat}` };
  if (r.leftover.length) return { verdict: 'FAIL', reason: `${first}, and controller(s) ${r.leftover.join(', ')} were left behind` };
  if (!r.first.ok && r.retry && !r.retry.ok) {
    return { verdict: 'FAIL', reason: `${first}; a new connect after the device came back failed too: ${r.retry.error}` };
  }
  if (!r.live) {
    const why = r.notLive === 'deleted' ? 'it was deleted' : `waited ${s(v.spec.recovery_deadline_ms)} after the device came back`;
    return { verdict: 'FAIL', reason: `${first}, but the controller never came live (${why})` };
  }
  if (m.recovery_ms === null) return { verdict: 'FAIL', reason: `${first}; the controller is live but no I/O completed on it` };
  if (m.io_errors > 0) return { verdict: 'FAIL', reason: `${first}; then ${m.io_errors} I/O error(s)${v.firstIoError ? ` (first: ${v.firstIoError})` : ''}` };
  if (m.verify_errors > 0 || m.lost_writes > 0) {
    return { verdict: 'FAIL', reason: `${first}; data check failed: ${m.verify_errors} bad block(s), ${m.lost_writes} acknowledged write(s) lost` };
  }
  const how = r.first.ok
    ? `; live ${m.ctrl_live_ms === null ? '' : `${s(m.ctrl_live_ms)} `}after the device came back with no admin action`
    : '; a new connect after the device came back worked';
  return { verdict: 'PASS', reason: `${first}${how}; then I/O ran with no error and every acknowledged write read back` };
}
