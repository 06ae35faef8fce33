// PASS, FAIL or SKIP, with a reason a person understands. ERROR is decided by the
// runner (the harness failed), never here.
import type { ScenarioSpec } from './spec.js';
import { controllerStates, stateAt, type ResetWindow } from './metrics.js';
import type { Metrics, TimelineEvent, Verdict } from './types.js';

export interface VerdictInputs {
  spec: ScenarioSpec;
  metrics: Metrics;
  resets: ResetWindow[];
  events: TimelineEvent[];
  controller: string;
  endMs: number;
  firstSplat?: string;
  firstIoError?: string;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export function decide(v: VerdictInputs): { verdict: Verdict; reason: string } {
  const { metrics: m, controller: c } = v;
  const states = controllerStates(v.events, c);
  const firstGone = v.resets.length ? Math.min(...v.resets.map((r) => r.goneMs)) : 0;
  const lastBack = v.resets.length ? Math.max(...v.resets.map((r) => r.backMs)) : 0;
  const deletedAt = states.find(([t, st]) => t >= firstGone && st === 'absent')?.[0];
  const finalState = stateAt(states, v.endMs) ?? 'unknown';
  const splat = m.splats > 0 ? `; the kernel reported: ${v.firstSplat ?? `${m.splats} problem(s)`}` : '';

  if (v.spec.expect.controller === 'deleted') {
    if (deletedAt === undefined) return { verdict: 'FAIL', reason: `controller ${c} was expected to be deleted after ctrl_loss_tmo but is ${finalState}${splat}` };
    if (m.splats > 0) return { verdict: 'FAIL', reason: `controller ${c} deleted, but not cleanly${splat}` };
    return { verdict: 'PASS', reason: `controller ${c} deleted cleanly ${s(deletedAt - firstGone)} after the device went away (ctrl_loss_tmo=${v.spec.connect.ctrl_loss_tmo} s)` };
  }

  const noIo = m.recovery_ms === null ? '; no I/O completed after the reset' : '';
  if (deletedAt !== undefined) {
    return { verdict: 'FAIL', reason: `controller ${c} deleted ${s(deletedAt - firstGone)} after the device went away${noIo}${splat}` };
  }
  if (m.ctrl_live_ms === null) {
    return {
      verdict: 'FAIL',
      reason: `controller ${c} still ${finalState} ${s(v.endMs - lastBack)} after the device came back${noIo}${splat}`,
    };
  }
  if (m.recovery_ms === null) {
    return { verdict: 'FAIL', reason: `controller ${c} live again after ${s(m.ctrl_live_ms)}, but no I/O completed after the device came back${splat}` };
  }
  if (m.io_errors > 0 && v.spec.expect.io_errors === 'none') {
    return { verdict: 'FAIL', reason: `${m.io_errors} I/O error(s) during the reset${v.firstIoError ? ` (first: ${v.firstIoError})` : ''}${splat}` };
  }
  if (m.verify_errors > 0 || m.lost_writes > 0) {
    return { verdict: 'FAIL', reason: `data check failed: ${m.verify_errors} bad block(s), ${m.lost_writes} acknowledged write(s) lost${splat}` };
  }
  if (m.splats > 0) return { verdict: 'FAIL', reason: `I/O resumed, but the kernel reported: ${v.firstSplat ?? 'a problem'}` };
  return {
    verdict: 'PASS',
    reason: `I/O resumed ${s(m.recovery_ms)} after the device came back (controller live after ${s(m.ctrl_live_ms)}); longest stall ${s(m.outage_ms ?? 0)}${v.resets.length > 1 ? ` over ${v.resets.length} resets` : ''}`,
  };
}
