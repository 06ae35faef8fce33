// Judge: the CONTRACT metrics from the record, and the verdict with its reason. Pure
// functions of what the earlier phases collected (metrics.ts, verdict.ts).
import { toRunMs } from '../../orchestrate/clock.js';
import { need, type RunContext } from '../context.js';
import { kmsgRunLines } from '../kmsg.js';
import { computeMetrics, countIoErrors } from '../metrics.js';
import { resourceGrowth } from '../rdma-resources.js';
import { decide } from '../verdict.js';
import type { Phase } from './phase.js';

/** The controller the verdict is about: the one loaded, or the one the racing connect made. */
export function controllerName(ctx: RunContext): string {
  return ctx.ctrl?.device ?? (ctx.race?.first.ok ? ctx.race.first.device : 'nvme0');
}

export const judge: Phase = {
  name: 'judge',
  run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const endMs = need(ctx.endMs, 'the end of the load');
    const load = ctx.load;
    const controller = controllerName(ctx);
    const hostEvents = ctx.events.filter((e) => e.vm === lab.host.name);
    const counted = countIoErrors(load?.ioErrors ?? 0, load?.errors ?? []);
    const metrics = computeMetrics({
      io: ctx.io,
      gaps: ctx.gaps,
      resets: ctx.resets,
      events: hostEvents,
      controller,
      endMs,
      ioErrors: counted.errors,
      verifyErrors: load?.verify.errors ?? 0,
      lostWrites: load?.verify.lostWrites ?? 0,
      splats: ctx.splatLines.length,
    });
    const e0 = load?.errors.find((e) => e.code !== 'EAGAIN');
    const hostMap = need(ctx.clocks.get(lab.host.name), "the host's clock");
    const targetMap = lab.target === lab.host ? undefined : ctx.clocks.get(lab.target.name);
    const { verdict, reason } = decide({
      spec: ctx.spec,
      metrics,
      resets: ctx.resets,
      events: hostEvents,
      controller,
      endMs,
      race: ctx.race,
      removal: ctx.removal,
      stuckReset: ctx.stuckReset,
      relisten: ctx.relisten,
      admin: ctx.admin.map((a) => a.outcome),
      eagainRetried: counted.eagain,
      rdmaGrowth: ctx.rdmaBefore && ctx.rdmaAfter ? resourceGrowth(ctx.rdmaBefore, ctx.rdmaAfter) : undefined,
      kmsg: {
        host: kmsgRunLines(lab.host, hostMap, ctx.t0),
        target: targetMap ? kmsgRunLines(lab.target, targetMap, ctx.t0) : undefined,
      },
      firstSplat: ctx.splatLines[0],
      firstIoError: e0 ? `${e0.code} on ${e0.op} at ${toRunMs(hostMap, BigInt(Math.round(e0.timeNs)), ctx.t0).toFixed(0)} ms` : undefined,
    });
    ctx.judgement = { verdict, reason, metrics };
    return Promise.resolve();
  },
};
