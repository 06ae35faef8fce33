// The rows of a run with more controllers on the one device (extra_controllers): the
// target with a second subsystem when asked, the host's extra controllers connected
// after the loaded one (or, with extra_in_flight_ms, their connect started just before
// the device goes), and after the common verdict what became of each: a device reset
// must not cost the host any of its controllers, and a connect it cuts short must be
// refused cleanly, leave nothing behind and work again once the device is back.
import { connectOptions } from '../connect-options.js';
import { listControllers, waitControllerState } from '../../orchestrate/configfs/index.js';
import { connectExtra, reconnectExtra, setupTargetExtra, startExtraConnects, type ExtraEnd } from '../../orchestrate/extra-ctrls.js';
import { prepareHost } from '../../orchestrate/nvme-lab.js';
import { sleep } from '../../util/deadline.js';
import { FABRICS_CONNECT_WRITE_MS } from '../../util/timeouts.js';
import { need, type Judgement, type RunContext } from '../context.js';
import { snapshotResources } from '../rdma-resources.js';
import { connect } from './connect.js';
import { endedEarly, hasController, type Phase } from './phase.js';

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
    if (ctx.spec.extra_in_flight_ms !== undefined) return;
    const extra = await connectExtra(need(ctx.lab, 'the lab'), need(ctx.spec.extra_controllers, 'the extra controllers'), connectOptions(ctx.spec.connect));
    ctx.extra = extra;
    ctx.say(`also ${extra.map((c) => `${c.device} (${c.kind})`).join(', ')} on the same device`);
  },
};

const racing = (ctx: RunContext): boolean => hasController(ctx) && ctx.spec.extra_in_flight_ms !== undefined;

/**
 * extra_in_flight_ms: the RDMA resource counts taken first (so that the connect's own
 * objects count as new), then every extra controller's connect write started and not
 * awaited; the resets phase, next, takes the device away while they are in flight.
 */
export const startExtraInFlight: Phase = {
  name: 'extra-connect',
  when: racing,
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const { spec } = ctx;
    ctx.rdmaBefore = (await snapshotResources(lab)).totals;
    const writeDeadline = spec.down_ms + spec.recovery_deadline_ms + FABRICS_CONNECT_WRITE_MS;
    ctx.extraInFlight = startExtraConnects(lab, need(spec.extra_controllers, 'the extra controllers'), connectOptions(spec.connect), writeDeadline, ctx.nowMs);
    ctx.say(`connecting ${ctx.extraInFlight.map((e) => e.kind).join(', ')}; the device goes in ${spec.extra_in_flight_ms} ms`);
    await sleep(need(spec.extra_in_flight_ms, 'extra_in_flight_ms'));
  },
};

/**
 * After the load: what each cut-short connect came to. Accepted, it must reach live by
 * itself; refused, the administrator connects again (recorded as the scenario's own
 * action, not the recovery's) and that must work. Then no other controller may be left.
 */
export const settleExtraInFlight: Phase = {
  name: 'extra-settle',
  when: (ctx) => ctx.extraInFlight !== undefined,
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const fs = lab.host.agent.fs();
    const goneMs = ctx.resets[0]?.goneMs ?? Infinity;
    const ends: ExtraEnd[] = [];
    for (const e of need(ctx.extraInFlight, 'the extra connects')) {
      const first = await e.outcome;
      const when = e.settledAt !== undefined && e.settledAt <= goneMs ? 'connected before the reset' : 'in flight at the reset';
      if (first.ok) {
        const live = await waitControllerState(fs, first.device, { deadlineMs: ctx.spec.recovery_deadline_ms }).then(() => 'live', () => 'not live');
        ends.push({ kind: e.kind, device: first.device, state: live, note: `connect ${when}: accepted` });
        continue;
      }
      const again = await lab.host.agent.guard.allow(`a new connect of the ${e.kind} controller whose connect was refused`, () =>
        reconnectExtra(lab, e.options, ctx.spec.recovery_deadline_ms),
      );
      ends.push({
        kind: e.kind,
        device: again.ok ? again.device : '-',
        state: again.ok ? 'live' : `not connected (${again.error})`,
        note: `connect ${when}: refused (${first.error}); a new connect ${again.ok ? 'live' : 'failed'}`,
      });
    }
    const known = new Set([need(ctx.ctrl, 'the controller').device, ...ends.map((e) => e.device)]);
    ctx.extraEnds = ends;
    ctx.extraLeftover = (await listControllers(fs)).map((c) => c.device).filter((d) => !known.has(d));
  },
};

const describe = (e: ExtraEnd): string => `${e.device} (${e.kind === 'subsystem' ? 'second subsystem' : 'discovery'}) ${e.state}${e.note ? ` [${e.note}]` : ''}`;

/**
 * Every extra controller live at the end and no controller left over that nobody
 * asked for, else FAIL; the reason says what became of each (pure).
 */
export function judgeExtra(j: Judgement, ends: readonly ExtraEnd[], leftover: readonly string[] = []): Judgement {
  const extraLeft = leftover.length ? `; left behind: ${leftover.join(', ')}` : '';
  const summary = `also: ${ends.map(describe).join(', ')}${extraLeft}`;
  const lost = ends.filter((e) => e.state !== 'live');
  if (j.verdict !== 'PASS' || (lost.length === 0 && leftover.length === 0)) return { ...j, reason: `${j.reason}; ${summary}` };
  const what = [...lost.map((e) => `${e.kind} controller ${e.device} ${e.state}`), ...(leftover.length ? [`controllers left behind: ${leftover.join(', ')}`] : [])];
  return { ...j, verdict: 'FAIL', reason: `${what.join(', ')}; ${summary}` };
}

/**
 * A run that ended at its reset (stuck-reset.ts: the trigger blocked behind the
 * controller's deletion, its FAIL certain) never settles the in-flight connects: each
 * is said as it stood then, for the reason; none is waited for.
 */
export async function inFlightAtEarlyEnd(ctx: RunContext, stateOf: (device: string) => Promise<string>): Promise<ExtraEnd[]> {
  if (ctx.extraEnds || !ctx.extraInFlight || !endedEarly(ctx)) return [];
  const ends: ExtraEnd[] = [];
  for (const e of ctx.extraInFlight) {
    const first = e.settledAt === undefined ? undefined : await e.outcome;
    if (!first) ends.push({ kind: e.kind, device: '-', state: 'not connected', note: 'connect still in flight when the run ended' });
    else if (first.ok) ends.push({ kind: e.kind, device: first.device, state: await stateOf(first.device), note: 'connect accepted' });
    else ends.push({ kind: e.kind, device: '-', state: 'not connected', note: `connect refused (${first.error})` });
  }
  return ends;
}

export const judgeExtraControllers: Phase = {
  name: 'controllers',
  async run(ctx) {
    const fs = need(ctx.lab, 'the lab').host.agent.fs();
    const stateOf = (device: string): Promise<string> => fs.readFile(`/sys/class/nvme/${device}/state`).then((s) => s.trim(), () => 'deleted');
    const ends: ExtraEnd[] = [...(ctx.extraEnds ?? []), ...(await inFlightAtEarlyEnd(ctx, stateOf))];
    for (const c of ctx.extra ?? []) ends.push({ ...c, state: await stateOf(c.device) });
    ctx.judgement = judgeExtra(need(ctx.judgement, 'the verdict'), ends, ctx.extraLeftover);
  },
};
