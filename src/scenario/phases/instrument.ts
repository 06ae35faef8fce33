// Instrument: before anything is measured, kmemleak forgets what boot left (debug
// kernels), each VM's clock is aligned with the harness's, and each VM's timeline
// sampler (controller states, devices, uevents) starts, and so does the harness's watch
// of how long the machine keeps each VM off the CPU (src/vm/starvation.ts).
import { alignClock } from '../../orchestrate/clock.js';
import { agentsSettled } from '../agents-warm.js';
import { need } from '../context.js';
import { clearKmemleak, hasKmemleak } from '../kmemleak.js';
import type { Phase } from './phase.js';
import { TIMELINE_SAMPLE_MS } from '../../util/timeouts.js';
import { watchStarvation } from '../../vm/starvation.js';


export const instrument: Phase = {
  name: 'instrument',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    ctx.starvation = watchStarvation(lab.machines, ctx.nowMs);
    for (const m of lab.machines) {
      if (await hasKmemleak(m)) {
        await clearKmemleak(m);
        ctx.leakChecked.push(m);
      }
    }
    // The host VM's execa import (asked for at boot) done first: the clock's best round
    // trip bounds its error, and an import under way holds the agent's answers.
    await agentsSettled(lab.machines);
    await Promise.all(
      lab.machines.map(async (m) => {
        ctx.clocks.set(m.name, await alignClock(m));
        ctx.samplers.set(m.name, (await m.agent.call<{ id: number }>('timeline.start', { intervalMs: TIMELINE_SAMPLE_MS })).id);
      }),
    );
  },
};
