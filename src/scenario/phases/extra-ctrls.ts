// The rows of a run with more controllers on the one device (extra_controllers): the
// target with a second subsystem when asked, the host's extra controllers connected
// after the loaded one, and after the common verdict what became of each: a device
// reset must not cost the host any of its controllers.
import { connectExtra, setupTargetExtra, type ExtraController } from '../../orchestrate/extra-ctrls.js';
import { prepareHost } from '../../orchestrate/nvme-lab.js';
import { need, type Judgement } from '../context.js';
import { connect } from './connect.js';
import type { Phase } from './phase.js';

export const targetExtra: Phase = {
  name: 'target',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const extra = need(ctx.spec.extra_controllers, 'the extra controllers');
    await Promise.all([setupTargetExtra(lab, extra), lab.host !== lab.target ? prepareHost(lab) : undefined]);
  },
};

export const connectWithExtra: Phase = {
  name: 'connect',
  async run(ctx) {
    await connect.run(ctx);
    const extra = await connectExtra(need(ctx.lab, 'the lab'), need(ctx.spec.extra_controllers, 'the extra controllers'), ctx.spec.connect);
    ctx.extra = extra;
    ctx.say(`also ${extra.map((c) => `${c.device} (${c.kind})`).join(', ')} on the same device`);
  },
};

/** An extra controller at the end of the run: its state, or "deleted". */
export interface ExtraEnd extends ExtraController {
  state: string;
}

/** Every extra controller live at the end, else FAIL; the reason says what became of each (pure). */
export function judgeExtra(j: Judgement, ends: readonly ExtraEnd[]): Judgement {
  const summary = `also: ${ends.map((e) => `${e.device} (${e.kind === 'subsystem' ? 'second subsystem' : 'discovery'}) ${e.state}`).join(', ')}`;
  const lost = ends.filter((e) => e.state !== 'live');
  if (j.verdict !== 'PASS' || lost.length === 0) return { ...j, reason: `${j.reason}; ${summary}` };
  return { ...j, verdict: 'FAIL', reason: `${lost.map((e) => `${e.kind} controller ${e.device} ${e.state}`).join(', ')}; ${summary}` };
}

export const judgeExtraControllers: Phase = {
  name: 'controllers',
  async run(ctx) {
    const fs = need(ctx.lab, 'the lab').host.agent.fs();
    const ends: ExtraEnd[] = [];
    for (const c of need(ctx.extra, 'the extra controllers')) {
      ends.push({ ...c, state: await fs.readFile(`/sys/class/nvme/${c.device}/state`).then((s) => s.trim(), () => 'deleted') });
    }
    ctx.judgement = judgeExtra(need(ctx.judgement, 'the verdict'), ends);
  },
};
