// A scenario's deliberate administrator action while the device is away: what a user
// may do to a recovering controller or a retrying target port, or what happens around
// it (unrelated RDMA devices appear). One table row per action: on which VM, what it
// needs loaded before the reset, its steps while the device is away, and what is done
// once the device is back (if anything). Each step runs through the guard's allow(), so
// it is recorded as the scenario's own and not refused, and each is recorded as it
// happens (an outcome per step).
import { disconnectController } from '../orchestrate/configfs/index.js';
import { LAB_NQN, TRSVCID, applyTargetIn, labTargetConfig, type LabAgent, type NvmeLab } from '../orchestrate/nvme-lab.js';
import { addUnrelated, describeAdd, loadDummy, removeUnrelated, unrelatedNames } from '../orchestrate/unrelated-rdma.js';
import { sleep } from '../util/deadline.js';
import { errorMessage } from '../util/errors.js';
import { NVME_RDMA_UNLOAD_MS } from '../util/timeouts.js';
import type { AdminAction, AdminSpec } from './spec.js';

export interface AdminOutcome {
  action: AdminAction;
  /** What was done, for the timeline and the verdict. */
  what: string;
  ok: boolean;
  /** The errno text when the kernel refused, e.g. "EBUSY". */
  error?: string;
}

const PORT = '/sys/kernel/config/nvmet/ports/1';

/** What a step knows: the controller the run loads, the lab, and the scenario's admin field. */
export interface StepInput {
  controller: string;
  lab: NvmeLab;
  admin: AdminSpec;
}

export interface AdminStep {
  what(i: StepInput): string;
  run(agent: LabAgent, i: StepInput): Promise<unknown>;
}

export interface AdminRow {
  /** The VM the action runs on. */
  on: 'host' | 'target';
  /** Before the first reset, not an admin action (a module the steps need). */
  prepare?(agent: LabAgent): Promise<void>;
  /** The steps while the device is away, in order, the first after_ms in. */
  away(admin: AdminSpec): AdminStep[];
  /** Between the starts of two steps while away, ms (a step that runs longer delays the next). */
  gapMs?(admin: AdminSpec): number;
  /** Once the device is back. */
  afterRestore?: AdminStep;
}

const removePort: AdminStep = {
  what: () => `rm ${PORT}/subsystems/${LAB_NQN}; rmdir ${PORT}`,
  run: async (a) => {
    await a.fs().unlink(`${PORT}/subsystems/${LAB_NQN}`);
    await a.fs().rmdir(PORT);
  },
};

const createPort = (when: string): AdminStep => ({
  what: ({ lab }) => `mkdir ${PORT} (rdma ${lab.targetAddr}:${TRSVCID}) and link ${LAB_NQN}${when}`,
  run: (a, { lab }) => applyTargetIn(a, labTargetConfig(lab)),
});

const one = (step: AdminStep) => (): AdminStep[] => [step];

/** How many unrelated devices the admin field asks for (0 for other actions). */
const deviceCount = (admin: AdminSpec): number => (admin.action === 'add-unrelated-rdma-devices' ? admin.count : 0);

const addDevice = (i: number): AdminStep => ({
  what: () => describeAdd(i),
  run: (a) => addUnrelated(a, i),
});

export const ADMIN: Record<AdminAction, AdminRow> = {
  'delete-controller': {
    on: 'host',
    away: one({ what: ({ controller: c }) => `echo 1 > /sys/class/nvme/${c}/delete_controller`, run: (a, { controller }) => disconnectController(a.fs(), controller) }),
  },
  'reset-controller': {
    on: 'host',
    away: one({ what: ({ controller: c }) => `echo 1 > /sys/class/nvme/${c}/reset_controller`, run: (a, { controller: c }) => a.fs().writeFile(`/sys/class/nvme/${c}/reset_controller`, '1') }),
  },
  'unload-host-module': {
    on: 'host',
    away: one({ what: () => 'rmmod nvme_rdma', run: (a) => a.check(['rmmod', 'nvme_rdma'], { deadlineMs: NVME_RDMA_UNLOAD_MS }) }),
  },
  'remove-target-port': {
    on: 'target',
    away: one(removePort),
    afterRestore: createPort(''),
  },
  // The port enabled while no RDMA device owns its address: stock nvmet-rdma refuses the
  // link (the outcome says so), the patched one keeps the port and listens once it can.
  'recreate-target-port': {
    on: 'target',
    away: () => [removePort, createPort(', while the device is away')],
  },
  'add-unrelated-rdma-devices': {
    on: 'host',
    prepare: loadDummy,
    away: (admin) => Array.from({ length: deviceCount(admin) }, (_, i) => addDevice(i)),
    gapMs: (admin) => (admin.action === 'add-unrelated-rdma-devices' ? admin.interval_ms : 0),
    afterRestore: {
      what: ({ admin }) => {
        const n = deviceCount(admin);
        return `remove the unrelated devices: rdma link delete rbrxe0..${unrelatedNames(n - 1).rxe}, ip link del rbdummy0..${unrelatedNames(n - 1).netdev}`;
      },
      run: (a, { admin }) => removeUnrelated(a, deviceCount(admin)),
    },
  },
};

/** Runs one step through the guard's allow(); a refusal by the kernel is an outcome, not a throw. */
async function perform(step: AdminStep, i: StepInput): Promise<AdminOutcome> {
  const agent = i.lab[ADMIN[i.admin.action].on].agent;
  const what = step.what(i);
  return agent.guard.allow(what, async () => {
    try {
      await step.run(agent, i);
      return { action: i.admin.action, what, ok: true };
    } catch (e) {
      return { action: i.admin.action, what, ok: false, error: errorMessage(e).split('\n')[0]! };
    }
  });
}

/** Which VM an action runs on. */
export function adminSide(action: AdminAction): 'host' | 'target' {
  return ADMIN[action].on;
}

/** What the action needs before the first reset, if anything (not an admin action: no guard). */
export async function prepareAdmin(lab: NvmeLab, admin: AdminSpec): Promise<void> {
  const row = ADMIN[admin.action];
  await row.prepare?.(lab[row.on].agent);
}

/**
 * The action's steps, while the device is away: each `gapMs` after the previous one
 * started, each outcome handed to `record` as it happens. Returns them all, in order.
 */
export async function performAdmin(lab: NvmeLab, admin: AdminSpec, controller: string, record: (o: AdminOutcome) => void = () => {}): Promise<AdminOutcome[]> {
  const row = ADMIN[admin.action];
  const gap = row.gapMs?.(admin) ?? 0;
  const start = Date.now();
  const outcomes: AdminOutcome[] = [];
  for (const [k, step] of row.away(admin).entries()) {
    await sleep(Math.max(0, start + k * gap - Date.now()));
    const o = await perform(step, { controller, lab, admin });
    record(o);
    outcomes.push(o);
  }
  return outcomes;
}

/** What the administrator does once the device is back, if anything: re-create a removed port, remove added devices. */
export async function afterRestore(lab: NvmeLab, admin: AdminSpec, controller = ''): Promise<AdminOutcome | undefined> {
  const step = ADMIN[admin.action].afterRestore;
  return step ? perform(step, { controller, lab, admin }) : undefined;
}
