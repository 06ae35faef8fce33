// The built-in scenarios: <side>-<reset> for every side and reset, plus stress cases.
import { RESET_KINDS } from '../reset/types.js';
import { UsageError } from '../util/errors.js';
import { SIDES, parseScenario, type AdminAction, type ScenarioInput, type ScenarioSpec } from './spec.js';

/** nvme_core's io_timeout (30 s by default): what ends a link flap's lost command. */
export const LINK_FLAP_IO_TIMEOUT_MS = 30_000;
/** A link flap's recovery deadline: the I/O timeout, then error recovery, a reconnect_delay and a connect under TCG. */
export const LINK_FLAP_DEADLINE_MS = LINK_FLAP_IO_TIMEOUT_MS + 10_000;

const base: ScenarioInput[] = SIDES.flatMap((side) =>
  RESET_KINDS.map((reset) => ({
    name: `${side}-${reset}`,
    side,
    reset,
    // A flap shorter than the keep-alive timeout: error recovery then starts after the
    // link is back. If it starts while the link is still down, its CM DREQs fail on the
    // down netdev, rxe moves QP1 to error and its posted receives are lost for good
    // (ib_mad re-arms the QP but posts none): every later connect hangs, stock and
    // patched alike (docs/kernel-notes.md, issue 17). That is an rxe bug, not what this
    // control case is about; scenarios/host-link-flap-long.yaml shows it.
    // Its deadline outlasts nvme's I/O timeout: a command (or its answer) lost on the
    // down link is not sent again by rxe's RC requester on 6.12 (and now and then on
    // 6.1), so I/O stalls with the controller live until the I/O times out
    // (LINK_FLAP_IO_TIMEOUT_MS) and error recovery reconnects; stock and patched alike.
    ...(reset === 'link-flap' ? { down_ms: 2000, recovery_deadline_ms: LINK_FLAP_DEADLINE_MS } : {}),
    description:
      reset === 'link-flap'
        ? `control: ${side} netdev down and up; stock already recovers`
        : `${side} RDMA device ${reset} during I/O; I/O must resume with no admin action`,
  })),
);

/**
 * A host rdma-link reset with a user's action halfway through a 6 s outage, while the
 * controller waits to reconnect. Deleting or unloading ends in a clean deletion; a
 * reset must leave recovery to carry on.
 */
function hostAdminDuringRecovery(name: string, action: AdminAction, description: string): ScenarioInput {
  const deletes = action !== 'reset-controller';
  return {
    name,
    side: 'host',
    reset: 'rdma-link',
    down_ms: 6000,
    admin: { action, after_ms: 3000 },
    ...(deletes ? { expect: { controller: 'deleted', io_errors: 'allowed' } } : {}),
    description,
  };
}

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
    inject_after_ms: 50,
    description: 'the host device goes away while the connect is in flight: refused cleanly or survived, never hung or leaked',
  },
  {
    name: 'high-qd-reset',
    side: 'host',
    reset: 'rdma-link',
    load: { iodepth: 128 },
    connect: { queue_size: 128 },
    description: 'host rdma-link reset under queue depth 128 (the queue is full when the device goes)',
  },
  hostAdminDuringRecovery('delete-during-recovery', 'delete-controller', 'the user deletes the controller while it waits to reconnect'),
  hostAdminDuringRecovery(
    'reset-ctrl-during-recovery',
    'reset-controller',
    'the user resets the controller while it waits to reconnect; recovery carries on',
  ),
  hostAdminDuringRecovery(
    'unload-during-recovery',
    'unload-host-module',
    'rmmod nvme_rdma while a controller waits to reconnect: deleted cleanly, module gone',
  ),
  {
    name: 'port-removal-during-retry',
    side: 'target',
    reset: 'rdma-link',
    down_ms: 8000,
    admin: { action: 'remove-target-port', after_ms: 4000 },
    recovery_deadline_ms: 30_000,
    description: 'the target port and its link are removed while the port retries, and re-created after the device is back',
  },
  {
    name: 'port-enabled-while-absent',
    side: 'target',
    reset: 'rdma-link',
    down_ms: 10_000,
    admin: { action: 'recreate-target-port', after_ms: 3000 },
    recovery_deadline_ms: 30_000,
    description: 'the target port removed and re-created (mkdir, address, subsystem link) while its RDMA device is away: the link must be accepted, the port kept, and it must listen once the device is back',
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

/**
 * Native multipath over the pair2 topology: the host connected over both links to one
 * head, the loader on the head, one path's device reset. Stock deletes that path's
 * controller for good; patched must bring it back while I/O goes over the other path.
 */
const MPATH_RESETS: [side: 'host' | 'target', reset: 'rdma-link' | 'pci-rebind' | 'hotplug'][] = [
  ['host', 'rdma-link'],
  ['host', 'pci-rebind'],
  ['host', 'hotplug'],
  ['target', 'rdma-link'],
];

const multipath: ScenarioInput[] = [
  ...MPATH_RESETS.map(([side, reset]) => ({
    name: `mpath-${side}-${reset}`,
    topology: 'pair2' as const,
    side,
    reset,
    paths: { connect: [0, 1], reset: [0] },
    description: `multipath, two links: ${side} ${reset} of path 0 during I/O on the head; I/O goes on over path 1 and path 0 comes back`,
  })),
  {
    name: 'mpath-both-paths',
    topology: 'pair2',
    side: 'host',
    reset: 'rdma-link',
    paths: { connect: [0, 1], reset: [0, 1], stagger_ms: 2000 },
    description: 'multipath: both host devices reset, path 1 two seconds after path 0 while path 0 is still away; I/O resumes and both paths come back',
  },
  {
    name: 'tcp-rdma-mixed',
    topology: 'pair2',
    side: 'host',
    reset: 'rdma-link',
    paths: { connect: [0, 1], reset: [0], transports: ['rdma', 'tcp'] },
    description: 'an nvme-rdma path (link 0) and an nvme-tcp path (link 1) to one subsystem: the RDMA device reset; TCP carries the I/O and the RDMA path comes back',
  },
];

/** How real hardware comes back: under another name, or with its address late. */
const restoreOrder: ScenarioInput[] = [
  {
    name: 'renamed-device',
    side: 'host',
    reset: 'rdma-link',
    restore: { rxe_name: 'rxe1' },
    description: 'the host device returns as rxe1, not rxe0, on the same netdev and address; the controller must find it',
  },
  {
    name: 'renamed-device-target',
    side: 'target',
    reset: 'rdma-link',
    restore: { rxe_name: 'rxe1' },
    description: 'the target device returns as rxe1, not rxe0, on the same netdev and address; the port must re-bind to it',
  },
  {
    name: 'ip-after-device',
    side: 'host',
    reset: 'pci-rebind',
    restore: { address_delay_ms: 3000 },
    description: 'the host NIC rebinds and its rxe device registers 3 s before its address: the attempt at device add fails, a later one succeeds',
  },
  {
    name: 'ip-after-device-target',
    side: 'target',
    reset: 'pci-rebind',
    restore: { address_delay_ms: 3000 },
    description: 'the target NIC rebinds and its rxe device registers 3 s before its address: the port re-binds once the address is there',
  },
];

/** Several controllers on the one reset device. */
const controllers: ScenarioInput[] = [
  {
    name: 'two-ctrl',
    side: 'host',
    reset: 'rdma-link',
    extra_controllers: ['subsystem'],
    description: 'two subsystems on one port, the host connected to both through one device: a reset, and both controllers recover',
  },
  {
    name: 'two-ctrl-connecting',
    side: 'host',
    reset: 'rdma-link',
    extra_controllers: ['subsystem'],
    extra_in_flight_ms: 150,
    description: 'two subsystems on one device; the second one still connecting when the device goes: the first recovers, the second is refused cleanly (and connects again) or comes live, nothing left behind',
  },
  {
    name: 'discovery-persistent',
    side: 'host',
    reset: 'rdma-link',
    extra_controllers: ['discovery'],
    description: 'a persistent discovery controller beside the I/O controller over the reset device: both come back',
  },
];

export const CATALOG: ScenarioSpec[] = [...base, ...stress, ...multipath, ...restoreOrder, ...controllers].map((s) => parseScenario(s, `built-in ${s.name}`));

/** What `compare` and CI run when no scenario is named. */
export const DEFAULT_SUITE = ['host-rdma-link', 'target-rdma-link', 'host-link-flap'];

export function findScenario(name: string): ScenarioSpec {
  const s = CATALOG.find((c) => c.name === name);
  if (!s) {
    throw new UsageError(`unknown scenario ${JSON.stringify(name)}; \`reset-bench list\` shows the built-in ones, or give a .yaml/.json file`, 'SCENARIO');
  }
  return s;
}
