// Connect: the host's controller to the target, one of two ways the scenario picks
// (`during`): a plain connect before the load, or a connect the device reset races
// (reset-during-connect), which may or may not leave a controller to load.
import { connectOptions } from '../connect-options.js';
import { connectPreparedHost } from '../../orchestrate/nvme-lab.js';
import { raceConnect } from '../connect-race.js';
import { need, type RunContext } from '../context.js';
import type { Phase } from './phase.js';

function sayLive(ctx: RunContext): void {
  if (ctx.ctrl) ctx.say(`${ctx.ctrl.device} live on ${ctx.ctrl.namespace}`);
}

export const connect: Phase = {
  name: 'connect',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    // The target phase prepared the host (target.ts).
    ctx.ctrl = await connectPreparedHost(lab, connectOptions(ctx.spec.connect, lab.hostAddr));
    sayLive(ctx);
  },
};

export const connectRace: Phase = {
  name: 'connect-race',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const r = await raceConnect(lab, ctx.spec, lab.resetPlan(ctx.spec), { nowMs: ctx.nowMs, say: ctx.say, runDir: ctx.runDir });
    ctx.race = r.race;
    ctx.ctrl = r.ctrl;
    ctx.resets.push(r.window);
    const { first, retry } = r.race;
    if (r.race.stuck) return;
    ctx.say(`connect ${first.ok ? 'accepted' : `refused (${first.error})`}${retry ? `, new connect ${retry.ok ? 'worked' : 'failed'}` : ''}`);
    sayLive(ctx);
  },
};
