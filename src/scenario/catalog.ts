// The built-in scenarios: <side>-<reset> for every side and reset, plus stress cases.
import { RESET_KINDS } from '../reset/types.js';
import { UsageError } from '../util/errors.js';
import { SIDES, parseScenario, type ScenarioInput, type ScenarioSpec } from './spec.js';

const base: ScenarioInput[] = SIDES.flatMap((side) =>
  RESET_KINDS.map((reset) => ({
    name: `${side}-${reset}`,
    side,
    reset,
    // A flap shorter than the keep-alive timeout: error recovery then starts after the
    // link is back. Longer flaps hit a stock rxe problem (QP1's receive side stays in
    // error after CM sends fail on a down link; connects then hang, stock and patched
    // alike), which is not what this control case is about.
    ...(reset === 'link-flap' ? { down_ms: 2000 } : {}),
    description:
      reset === 'link-flap'
        ? `control: ${side} netdev down and up; stock already recovers`
        : `${side} RDMA device ${reset} during I/O; I/O must resume with no admin action`,
  })),
);

const stress: ScenarioInput[] = [
  {
    name: 'repeated-resets',
    side: 'host',
    reset: 'rdma-link',
    resets: 20,
    down_ms: 1500,
    description: '20 host rdma-link resets in a row during I/O',
  },
  {
    name: 'reset-during-connect',
    side: 'host',
    reset: 'rdma-link',
    during: 'connect',
    description: 'the host device goes away while the controller is connecting',
  },
  {
    name: 'ctrl-loss-expiry',
    side: 'host',
    reset: 'rdma-link',
    down_ms: 12_000,
    connect: { reconnect_delay: 1, ctrl_loss_tmo: 5 },
    expect: { controller: 'deleted', io_errors: 'allowed' },
    description: 'the device stays away longer than ctrl_loss_tmo: the controller is deleted cleanly',
  },
  {
    name: 'fast-io-fail',
    side: 'host',
    reset: 'rdma-link',
    down_ms: 6000,
    connect: { reconnect_delay: 1, ctrl_loss_tmo: 60, fast_io_fail_tmo: 2 },
    expect: { controller: 'recovers', io_errors: 'allowed' },
    description: 'fast_io_fail_tmo fails I/O during the outage; I/O resumes after',
  },
];

export const CATALOG: ScenarioSpec[] = [...base, ...stress].map((s) => parseScenario(s, `built-in ${s.name}`));

/** What `compare` and CI run when no scenario is named. */
export const DEFAULT_SUITE = ['host-rdma-link', 'target-rdma-link', 'host-link-flap'];

export function findScenario(name: string): ScenarioSpec {
  const s = CATALOG.find((c) => c.name === name);
  if (!s) {
    throw new UsageError(`unknown scenario ${JSON.stringify(name)}; \`reset-bench list\` shows the built-in ones, or give a .yaml/.json file`, 'SCENARIO');
  }
  return s;
}
