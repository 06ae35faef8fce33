// Instrument: before anything is measured, kmemleak forgets what boot left (debug
// kernels), each VM's clock is aligned with the harness's, and each VM's timeline
// sampler (controller states, devices, uevents) starts, and so does the harness's watch
// of how long the machine keeps each VM off the CPU (src/vm/starvation.ts).
// The boot phase starts a pair's host VM's part at once (startInstrumenting): that VM
// has nothing to do while the target is built. This phase waits for it and does the rest.
import { alignClock } from '../../orchestrate/clock.js';
import { agentsSettled } from '../agents-warm.js';
import { need, type RunContext } from '../context.js';
import type { LabVm } from '../lab.js';
import { clearKmemleak, hasKmemleak } from '../kmemleak.js';
import type { Phase } from './phase.js';
import { TIMELINE_SAMPLE_MS } from '../../util/timeouts.js';
import { watchStarvation } from '../../vm/starvation.js';

/** One VM: kmemleak cleared (debug kernels), its imports settled, its clock aligned, its sampler started. */
async function instrumentVm(ctx: RunContext, m: LabVm): Promise<void> {
  if (await hasKmemleak(m)) {
    await clearKmemleak(m);
    ctx.leakChecked.push(m);
  }
  // The VM's execa import (the host's, asked for at boot) done first: the clock's best
  // round trip bounds its error, and an import under way holds the agent's answers.
  await agentsSettled([m]);
  ctx.clocks.set(m.name, await alignClock(m));
  ctx.samplers.set(m.name, (await m.agent.call<{ id: number }>('timeline.start', { intervalMs: TIMELINE_SAMPLE_MS })).id);
}

/**
 * Starts instrumenting these VMs in the background; the instrument phase waits for them
 * and does the others. The boot phase gives the host VM of a pair: it has nothing to do
 * while the target is built. Not the target VM: its sampler's ticks and its addon's load
 * slowed the set-up more than they saved (patched host-rdma-link, 3 runs: target phase
 * 0.8 s to 1.8 s, the instrument phase's 0.5 s gone).
 */
export function startInstrumenting(ctx: RunContext, machines: readonly LabVm[]): void {
  const done = Promise.all(machines.map((m) => instrumentVm(ctx, m))).then(() => undefined);
  done.catch(() => undefined); // awaited by the instrument phase; a run that fails before it has its own error
  ctx.instrumenting = { vms: machines, done };
}

export const instrument: Phase = {
  name: 'instrument',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    ctx.starvation = watchStarvation(lab.machines, ctx.nowMs);
    const started = ctx.instrumenting?.vms ?? [];
    await Promise.all([ctx.instrumenting?.done, ...lab.machines.filter((m) => !started.includes(m)).map((m) => instrumentVm(ctx, m))]);
  },
};
