// Collect: the guests' timelines fetched and put on the run's clock with the harness's
// own events (resets, refused admin attempts, the scenario's admin actions, the racing
// connect, the target's port listening again or not), the loader's I/O series and gaps likewise, and the kernel reports seen on
// the consoles; and the stretches where this machine kept a VM off the CPU.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TimelineSample } from '../../guest/ops-timeline.js';
import type { LoadResult } from '../../load/run.js';
import { alignClock, checkClockRate, toRunMs, type ClockMap } from '../../orchestrate/clock.js';
import { need, type RunContext } from '../context.js';
import type { RunLab } from '../lab.js';
import type { GapMs } from '../metrics.js';
import { relistenEvents } from '../port-listeners.js';
import type { IoPoint, TimelineEvent } from '../types.js';
import { NVME_DEFAULT_KATO_S, resourceGrowth, saveResources, settleGrowth, settleUntilMs, snapshotResources, type ResourceTotals } from '../rdma-resources.js';
import type { Phase } from './phase.js';
import { longestStretch, STARVED_EVENT_MS, starvedStretches } from '../../vm/starvation.js';

/** Each guest's sampled timeline, put on the run's clock; the guests are asked at once. */
async function guestEvents(ctx: RunContext, lab: RunLab): Promise<TimelineEvent[]> {
  const perVm = await Promise.all(
    lab.machines.map(async (m) => {
      const id = need(ctx.samplers.get(m.name), `${m.name}'s sampler`);
      const map = need(ctx.clocks.get(m.name), `${m.name}'s clock`);
      const samples = await m.agent.call<TimelineSample[]>('timeline.stop', { id });
      return samples.map((s): TimelineEvent => ({ t_ms: toRunMs(map, s.t, ctx.t0), vm: m.name, kind: s.kind, key: s.key, value: s.value }));
    }),
  );
  return perVm.flat();
}

function harnessEvents(ctx: RunContext, lab: RunLab): TimelineEvent[] {
  const { spec } = ctx;
  const events: TimelineEvent[] = [];
  for (const r of ctx.resets) {
    events.push({ t_ms: r.goneMs, vm: 'harness', kind: 'reset', key: spec.reset, value: 'device gone' });
    events.push({ t_ms: r.backMs, vm: 'harness', kind: 'reset', key: spec.reset, value: 'device back' });
  }
  for (const m of lab.machines) {
    for (const g of m.agent.guard.refused) {
      events.push({ t_ms: ctx.nowMs() - (Date.now() - g.at), vm: m.name, kind: 'guard', key: g.op, value: `refused: ${g.what}` });
    }
  }
  for (const a of ctx.admin) {
    events.push({ t_ms: a.atMs, vm: a.vm, kind: 'admin', key: a.outcome.action, value: `${a.outcome.what}: ${a.outcome.ok ? 'ok' : a.outcome.error}` });
  }
  events.push(...removalEvents(ctx, lab));
  if (ctx.relisten) events.push(...relistenEvents(ctx.relisten, lab.target.name));
  const st = ctx.stuckReset;
  if (st) {
    events.push({ t_ms: st.goneMs, vm: 'harness', kind: 'reset', key: spec.reset, value: 'device gone' });
    events.push({ t_ms: st.goneMs + st.waitedMs, vm: 'harness', kind: 'reset', key: spec.reset, value: `trigger still blocked after ${st.waitedMs} ms; controller ${st.state}: run ended` });
  }
  const r = ctx.race;
  if (r) {
    const goneMs = need(ctx.resets[0], 'the racing reset').goneMs;
    events.push({ t_ms: r.injectAfterMs >= 0 ? goneMs - r.injectAfterMs : 0, vm: lab.host.name, kind: 'admin', key: 'connect', value: 'connect write started' });
    events.push({
      t_ms: goneMs - r.injectAfterMs + r.connectMs,
      vm: lab.host.name,
      kind: 'admin',
      key: 'connect',
      value: r.stuck ? `connect still in flight; the removal blocked ${r.stuck.waitedMs} ms: run ended` : r.first.ok ? `connect accepted: ${r.first.device}` : `connect refused: ${r.first.error}`,
    });
  }
  return events;
}

/** during: reconnect: ARP held back, the reconnect's start, and a removal that never returned. */
function removalEvents(ctx: RunContext, lab: RunLab): TimelineEvent[] {
  const r = ctx.removal;
  if (!r) return [];
  const host = lab.host.name;
  const events: TimelineEvent[] = [
    { t_ms: r.heldMs, vm: lab.target.name, kind: 'net', key: 'arp', value: 'ARP answers held back (arp_ignore 8); host neighbours flushed' },
    { t_ms: r.connectingMs, vm: host, kind: 'net', key: 'reconnect', value: 'controller read "connecting"; its first attempt resolves the address after reconnect_delay' },
  ];
  if (r.stuck) {
    events.push({ t_ms: r.goneMs, vm: 'harness', kind: 'reset', key: ctx.spec.reset, value: 'rdma link delete sent' });
    events.push({ t_ms: r.goneMs + r.stuck.waitedMs, vm: 'harness', kind: 'reset', key: ctx.spec.reset, value: `rdma link delete still blocked after ${r.stuck.waitedMs} ms` });
  }
  return events;
}

/** The loader's per-interval completions on the run's clock. */
export function ioSeries(load: LoadResult | undefined, hostMap: ClockMap, t0: bigint): IoPoint[] {
  const tl = load?.timeline;
  if (!tl) return [];
  return Array.from({ length: tl.reads.length }, (_, i) => ({
    t_ms: toRunMs(hostMap, BigInt(Math.round(tl.startNs)) + BigInt(tl.intervalNs) * BigInt(i), t0),
    completions: (tl.reads[i] ?? 0) + (tl.writes[i] ?? 0),
    errors: tl.errors[i] ?? 0,
  }));
}

export function gapsOf(load: LoadResult | undefined, hostMap: ClockMap, t0: bigint): GapMs[] {
  return (load?.gaps ?? []).map((g) => ({
    startMs: toRunMs(hostMap, BigInt(Math.round(g.startNs)), t0),
    endMs: toRunMs(hostMap, BigInt(Math.round(g.endNs)), t0),
    open: g.open,
  }));
}

/**
 * Each guest's clock aligned again: it must have kept the harness's rate since instrument.
 * The guests are asked at once: each sample's round trip bounds its own error and the
 * sample with the shortest is kept, so a round slowed by the other guest loses to a faster one.
 */
async function checkClocks(ctx: RunContext, lab: RunLab): Promise<void> {
  await Promise.all(
    lab.machines.map(async (m) => {
      const start = need(ctx.clocks.get(m.name), `${m.name}'s clock`);
      checkClockRate(start, await alignClock(m));
    }),
  );
}

/**
 * The counts after the run, read again while a VM holds more than before and the target
 * may still be about to time out an association the host gave up (rdma-resources.ts).
 */
async function settledCounts(ctx: RunContext, lab: RunLab, before: ResourceTotals, after: ResourceTotals): Promise<ResourceTotals> {
  const growth = resourceGrowth(before, after);
  if (growth.length === 0 || ctx.resets.length === 0) return after;
  const untilMs = settleUntilMs(Math.max(...ctx.resets.map((r) => r.goneMs)), ctx.spec.connect.keep_alive_tmo ?? NVME_DEFAULT_KATO_S);
  if (untilMs <= ctx.nowMs()) return after;
  ctx.say(`${growth.join('; ')}: reading the counts again until ${(untilMs / 1000).toFixed(1)} s, when the target's keep-alive has ended any association the host gave up`);
  return settleGrowth(lab, before, after, untilMs, ctx.nowMs);
}

export const collect: Phase = {
  name: 'collect',
  async run(ctx) {
    ctx.endMs ??= ctx.nowMs();
    const lab = need(ctx.lab, 'the lab');
    const starved = starvedStretches(ctx.starvation?.stop() ?? []);
    ctx.starved = longestStretch(starved);
    // The guests' clocks, resources and timelines are independent asks: all at once.
    // Not after a trigger that never returned: the RDMA core's device list may be held by it.
    const wantRdma = ctx.rdmaBefore !== undefined && !ctx.stuckReset;
    const [, rdma, fromGuests] = await Promise.all([checkClocks(ctx, lab), wantRdma ? snapshotResources(lab) : undefined, guestEvents(ctx, lab)]);
    if (rdma && ctx.rdmaBefore) ctx.rdmaAfter = await settledCounts(ctx, lab, ctx.rdmaBefore, rdma.totals);
    const rdmaChanges = ctx.rdmaBefore && ctx.rdmaAfter ? await saveResources(ctx.runDir, ctx.rdmaBefore, ctx.rdmaAfter) : [];
    const atMs = ctx.nowMs();
    const events = [
      ...fromGuests,
      ...harnessEvents(ctx, lab),
      ...starved.filter((s) => s.ms >= STARVED_EVENT_MS).map((s) => ({ t_ms: s.startMs, vm: s.vm, kind: 'starved', key: 'cpu', value: `kept off the CPU by this machine for ${s.ms.toFixed(0)} ms` })),
      ...rdmaChanges.map((c) => ({ t_ms: atMs, vm: c.split(':')[0] ?? 'harness', kind: 'rdma-resources', key: 'changed since the reset', value: c })),
    ];
    events.sort((a, b) => a.t_ms - b.t_ms);
    ctx.events = events;
    await writeFile(join(ctx.runDir, 'timeline.json'), JSON.stringify(events, null, 1));
    const hostMap = need(ctx.clocks.get(lab.host.name), "the host's clock");
    ctx.io = ioSeries(ctx.load, hostMap, ctx.t0);
    ctx.gaps = gapsOf(ctx.load, hostMap, ctx.t0);
    ctx.splatLines = lab.machines.flatMap((m) => m.splats.map((sp) => `${m.name}: ${sp.line.trim()}`));
  },
};
