// The last word on a FAIL: if this machine kept a VM off the CPU for STARVED_RUN_MS or
// more in one stretch, the guest's clock went on while it could not run, and the
// keep-alive or I/O timeouts and the stalls the FAIL rests on may be the machine's. Such
// a run proves nothing about the kernel: it is an ERROR, and the runner runs it again
// (runner.ts). A PASS stands (the kernel recovered even so). An ERROR of the harness
// (a deadline that ran out) in such a run is run again too. Applied by the runner after
// every phase, the topology's own judges included.
import { longestStretch, STARVED_RUN_MS, starvedStretches, type StarvationSample, type StarvedStretch } from '../vm/starvation.js';
import type { Judgement, RunContext } from './context.js';

/** What the machine did to the VM, for a reason. */
export function describeStarved(s: StarvedStretch): string {
  return `this machine kept the ${s.vm} VM off the CPU for ${(s.ms / 1000).toFixed(1)} s from ${(s.startMs / 1000).toFixed(1)} s (its QEMU waited for a CPU, or the machine itself was paused)`;
}

/** The judgement after the machine's starvation of a VM (pure). */
export function judgeStarved(j: Judgement, starved: StarvedStretch | undefined): Judgement {
  if (j.verdict !== 'FAIL' || starved === undefined || starved.ms < STARVED_RUN_MS) return j;
  return { ...j, verdict: 'ERROR', reason: `${describeStarved(starved)}, and its clock went on meanwhile: the FAIL may be the machine's, not the kernel's (it was: ${j.reason})` };
}

/** Applies judgeStarved to the run's verdict; the stretch when it turned a FAIL into an ERROR. */
export function applyStarvation(ctx: RunContext): StarvedStretch | undefined {
  const before = ctx.judgement;
  if (before === undefined) return undefined;
  ctx.judgement = judgeStarved(before, ctx.starved);
  return ctx.judgement.verdict !== before.verdict ? ctx.starved : undefined;
}

/** The reason of a harness ERROR in a starved run (pure). */
export function erroredWhileStarved(reason: string, s: StarvedStretch): string {
  return `${describeStarved(s)}; the harness gave up meanwhile: the ERROR may be the machine's (it was: ${reason})`;
}

/**
 * A harness ERROR (a deadline ran out, a guest stopped answering) while this machine
 * kept a VM off the CPU for STARVED_RUN_MS or more: the stretch, else undefined (pure).
 * Such an ERROR is the machine's as likely as the kernel's, and the runner runs it again.
 */
export function starvedAtError(samples: readonly StarvationSample[]): StarvedStretch | undefined {
  const s = longestStretch(starvedStretches(samples));
  return s !== undefined && s.ms >= STARVED_RUN_MS ? s : undefined;
}
