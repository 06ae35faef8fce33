// The phases of one run, in order, chosen by the scenario as data: `during` picks how
// the device reset meets the host (in the middle of the I/O, racing the connect, or
// while a reconnect resolves the target's address).
// New ways to run a scenario are new rows here, not branches in the runner.
import type { ScenarioSpec } from '../spec.js';
import { boot } from './boot.js';
import { collect } from './collect.js';
import { connect, connectRace } from './connect.js';
import { finish } from './finish.js';
import { instrument } from './instrument.js';
import { judge } from './judge.js';
import { leakScan } from './leak-scan.js';
import { load } from './load.js';
import { unlessEnded, type Phase } from './phase.js';
import { connectMultipath, judgeMultipath, targetPaths } from './paths.js';
import { connectWithExtra, judgeExtraControllers, settleExtraInFlight, startExtraInFlight, targetExtra } from './extra-ctrls.js';
import { reconnectReset } from './reconnect-reset.js';
import { resets } from './resets.js';
import { shutdown } from './shutdown.js';
import { target } from './target.js';
import { watch } from './watch.js';

/** From the host connected to the load ended, per `during`. */
export const DURING: Record<ScenarioSpec['during'], Phase[]> = {
  io: [connect, load, resets, watch, finish],
  connect: [connectRace, load, finish],
  reconnect: [connect, load, reconnectReset, watch, finish],
};

/** What a topology changes: how the target is built, how the host connects, and what is judged on top. */
interface TopologyRows {
  target: Phase;
  /** Replaces `connect` in the DURING row. */
  connect?: Phase;
  /** Just before the resets, and right after the load is finished (each phase says when it applies). */
  beforeResets?: Phase[];
  afterFinish?: Phase[];
  judgeMore: Phase[];
}

export const TOPOLOGY_ROWS: Record<ScenarioSpec['topology'], TopologyRows> = {
  loopback: { target, judgeMore: [] },
  pair: { target, judgeMore: [] },
  pair2: { target: targetPaths, connect: connectMultipath, judgeMore: [judgeMultipath] },
};

/** A scenario with extra_controllers: the same rows on pair or loopback, its controllers built and judged too. */
const EXTRA_ROWS: TopologyRows = {
  target: targetExtra,
  connect: connectWithExtra,
  beforeResets: [startExtraInFlight],
  afterFinish: [settleExtraInFlight],
  judgeMore: [judgeExtraControllers],
};

/** The DURING row with the topology's own connect and the phases it puts around the resets and after finish. */
function duringRow(spec: ScenarioSpec, t: TopologyRows): Phase[] {
  return DURING[spec.during].flatMap((p) => {
    if (p === connect) return [t.connect ?? p];
    if (p === resets) return [...(t.beforeResets ?? []), p];
    if (p === finish) return [p, ...(t.afterFinish ?? [])];
    return [p];
  });
}

/**
 * Every phase after the one that takes the device away is skipped once the run has
 * ended early (a removal or a trigger that never returned, its verdict certain).
 */
function unlessEndedAfterReset(row: Phase[]): Phase[] {
  const i = row.findIndex((p) => p === resets || p === reconnectReset || p === connectRace);
  return i < 0 ? row : [...row.slice(0, i + 1), ...row.slice(i + 1).map(unlessEnded)];
}

export function planFor(spec: ScenarioSpec): Phase[] {
  const t = spec.extra_controllers ? EXTRA_ROWS : TOPOLOGY_ROWS[spec.topology];
  return [boot, t.target, instrument, ...unlessEndedAfterReset(duringRow(spec, t)), collect, leakScan, judge, ...t.judgeMore, shutdown];
}
