// A scenario's deliberate administrator action while the device is away: what a user
// may do to a recovering controller or a retrying target port. One table row per
// action: on which VM, what it does, and what the administrator does once the device is
// back (if anything). Each runs through the guard's allow(), so it is recorded as the
// scenario's own and not refused.
import { applyTarget, disconnectController } from '../orchestrate/configfs/index.js';
import { LAB_NQN, TRSVCID, labTargetConfig, type LabAgent, type NvmeLab } from '../orchestrate/nvme-lab.js';
import { errorMessage } from '../util/errors.js';
import { NVME_RDMA_UNLOAD_MS } from '../util/timeouts.js';
import type { AdminAction } from './spec.js';

export interface AdminOutcome {
  action: AdminAction;
  /** What was done, for the timeline and the verdict. */
  what: string;
  ok: boolean;
  /** The errno text when the kernel refused, e.g. "EBUSY". */
  error?: string;
}

const PORT = '/sys/kernel/config/nvmet/ports/1';

interface AdminStep {
  /** The VM the action runs on. */
  on: 'host' | 'target';
  what(controller: string, lab: NvmeLab): string;
  run(agent: LabAgent, controller: string, lab: NvmeLab): Promise<unknown>;
}

interface AdminRow extends AdminStep {
  /** Once the device is back. */
  afterRestore?: AdminStep;
}

export const ADMIN: Record<AdminAction, AdminRow> = {
  'delete-controller': {
    on: 'host',
    what: (c) => `echo 1 > /sys/class/nvme/${c}/delete_controller`,
    run: (a, c) => disconnectController(a.fs(), c),
  },
  'reset-controller': {
    on: 'host',
    what: (c) => `echo 1 > /sys/class/nvme/${c}/reset_controller`,
    run: (a, c) => a.fs().writeFile(`/sys/class/nvme/${c}/reset_controller`, '1'),
  },
  'unload-host-module': {
    on: 'host',
    what: () => 'rmmod nvme_rdma',
    run: (a) => a.check(['rmmod', 'nvme_rdma'], { deadlineMs: NVME_RDMA_UNLOAD_MS }),
  },
  'remove-target-port': {
    on: 'target',
    what: () => `rm ${PORT}/subsystems/${LAB_NQN}; rmdir ${PORT}`,
    run: async (a) => {
      await a.fs().unlink(`${PORT}/subsystems/${LAB_NQN}`);
      await a.fs().rmdir(PORT);
    },
    afterRestore: {
      on: 'target',
      what: (_c, lab) => `mkdir ${PORT} (rdma ${lab.targetAddr}:${TRSVCID}) and link ${LAB_NQN}`,
      run: (a, _c, lab) => applyTarget(a.fs(), labTargetConfig(lab)),
    },
  },
};

/** Runs one step through the guard's allow(); a refusal by the kernel is an outcome, not a throw. */
async function perform(lab: NvmeLab, action: AdminAction, step: AdminStep, controller: string): Promise<AdminOutcome> {
  const agent = lab[step.on].agent;
  const what = step.what(controller, lab);
  return agent.guard.allow(what, async () => {
    try {
      await step.run(agent, controller, lab);
      return { action, what, ok: true };
    } catch (e) {
      return { action, what, ok: false, error: errorMessage(e).split('\n')[0]! };
    }
  });
}

/** Which VM an action runs on. */
export function adminSide(action: AdminAction): 'host' | 'target' {
  return ADMIN[action].on;
}

/** The action itself, while the device is away. */
export function performAdmin(lab: NvmeLab, action: AdminAction, controller: string): Promise<AdminOutcome> {
  return perform(lab, action, ADMIN[action], controller);
}

/** What the administrator does once the device is back, if anything: re-create a removed port. */
export async function afterRestore(lab: NvmeLab, action: AdminAction, controller = ''): Promise<AdminOutcome | undefined> {
  const step = ADMIN[action].afterRestore;
  return step ? perform(lab, action, step, controller) : undefined;
}
