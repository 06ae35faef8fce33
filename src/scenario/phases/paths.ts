// The multipath rows of a run (topology pair2): the target with a port per link, the
// host connected over each link to one multipath head, and, after the common verdict,
// what became of every path: each must be live at the end, and I/O on the head must
// have kept flowing over the other path while the reset one was away.
import { connectOptions } from '../connect-options.js';
import { connectPaths, prepareHostPaths, setupTargetPaths, type HostPath } from '../../orchestrate/paths-lab.js';
import { need, type Judgement } from '../context.js';
import type { ScenarioSpec } from '../spec.js';
import type { Phase } from './phase.js';
import { saveRxeCounters } from '../rxe-counters.js';

export const targetPaths: Phase = {
  name: 'target',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const transports = ctx.spec.paths?.transports;
    await Promise.all([setupTargetPaths(lab, transports), prepareHostPaths(lab, transports)]);
  },
};

export const connectMultipath: Phase = {
  name: 'connect',
  async run(ctx) {
    const paths = need(ctx.spec.paths, 'the scenario\'s paths');
    const { paths: connected, head } = await connectPaths(need(ctx.lab, 'the lab'), paths.connect, connectOptions(ctx.spec.connect), paths.transports);
    const resetLink = paths.reset[0] ?? paths.connect[0];
    const watched = connected.find((p) => p.link === resetLink) ?? need(connected[0], 'a connected path');
    ctx.paths = connected;
    ctx.ctrl = { ...head, device: watched.device };
    ctx.say(`${connected.map((p) => `${p.device} (${p.transport}) over link ${p.link}`).join(', ')}; I/O on the head ${head.namespace}`);
  },
};

/** A path at the end of the run: its controller's state (sysfs), or "deleted" when gone. */
export interface PathEnd extends HostPath {
  state: string;
}

/**
 * The multipath verdict on top of the common one (pure): every path live at the end,
 * and the longest stall of I/O on the head shorter than the device's absence (else the
 * I/O waited for the reset path instead of going over the other one). The reason
 * always ends with what became of each path.
 */
export function judgePaths(j: Judgement, ends: readonly PathEnd[], spec: Pick<ScenarioSpec, 'down_ms' | 'paths'>): Judgement {
  const live = ends.filter((e) => e.state === 'live');
  const summary = `paths: ${ends.map((e) => `${e.device} (${e.transport === 'tcp' ? 'tcp, ' : ''}link ${e.link}) ${e.state}`).join(', ')}; ${live.length} of ${ends.length} paths live`;
  const stall = j.metrics.outage_ms;
  const oneReset = (spec.paths?.reset.length ?? 1) < ends.length;
  const problems: string[] = [];
  if (live.length < ends.length) problems.push(`${ends.filter((e) => e.state !== 'live').map((e) => `path ${e.device} ${e.state}`).join(', ')}`);
  if (oneReset && stall !== null && stall >= spec.down_ms) {
    problems.push(`I/O on the head stalled ${(stall / 1000).toFixed(2)} s, as long as the device was away: it did not go over the other path`);
  }
  if (j.verdict !== 'PASS' || problems.length === 0) return { ...j, reason: `${j.reason}; ${summary}` };
  return { ...j, verdict: 'FAIL', reason: `${problems.join('; ')}; ${summary}` };
}

export const judgeMultipath: Phase = {
  name: 'paths',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    const fs = lab.host.agent.fs();
    const ends: PathEnd[] = [];
    for (const p of need(ctx.paths, 'the paths')) {
      const state = await fs.readFile(`/sys/class/nvme/${p.device}/state`).then((s) => s.trim(), () => 'deleted');
      ends.push({ ...p, state });
    }
    const common = need(ctx.judgement, 'the verdict');
    ctx.judgement = judgePaths(common, ends, ctx.spec);
    // A path that stopped carrying I/O is seldom in the kernel logs: the RDMA counters say more.
    if (common.verdict === 'PASS' && ctx.judgement.verdict === 'FAIL') {
      ctx.rxeCounters = await saveRxeCounters(lab, ctx.runDir);
      ctx.say(`the paths FAILed a run the common verdict passed: every VM's RDMA port counters saved (${ctx.rxeCounters})`);
    }
  },
};
