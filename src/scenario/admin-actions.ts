// A scenario's deliberate administrator action while the device is away: what a user
// may do to a recovering controller or a retrying target port. Each action runs through
// the guard's allow(), so it is recorded as the scenario's own and not refused.
import { applyTarget, disconnectController } from '../orchestrate/configfs/index.js';
import { LAB_NQN, TRSVCID, labTargetConfig } from '../orchestrate/nvme-lab.js';
import { errorMessage } from '../util/errors.js';
import type { Lab } from '../vm/topology.js';
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

async function attempt(action: AdminAction, what: string, fn: () => Promise<unknown>): Promise<AdminOutcome> {
  try {
    await fn();
    return { action, what, ok: true };
  } catch (e) {
    return { action, what, ok: false, error: errorMessage(e).split('\n')[0]! };
  }
}

/** The action itself, while the device is away. */
export async function performAdmin(lab: Lab, action: AdminAction, controller: string): Promise<AdminOutcome> {
  const h = lab.host.agent;
  const t = lab.target.agent;
  switch (action) {
    case 'delete-controller': {
      const what = `echo 1 > /sys/class/nvme/${controller}/delete_controller`;
      return h.guard.allow(what, () => attempt(action, what, () => disconnectController(h.fs(), controller)));
    }
    case 'reset-controller': {
      const what = `echo 1 > /sys/class/nvme/${controller}/reset_controller`;
      return h.guard.allow(what, () => attempt(action, what, () => h.fs().writeFile(`/sys/class/nvme/${controller}/reset_controller`, '1')));
    }
    case 'unload-host-module': {
      const what = 'rmmod nvme_rdma';
      return h.guard.allow(what, () => attempt(action, what, () => h.check(['rmmod', 'nvme_rdma'], { deadlineMs: 120_000 })));
    }
    case 'remove-target-port': {
      const what = `rm ${PORT}/subsystems/${LAB_NQN}; rmdir ${PORT}`;
      return t.guard.allow(what, () =>
        attempt(action, what, async () => {
          await t.fs().unlink(`${PORT}/subsystems/${LAB_NQN}`);
          await t.fs().rmdir(PORT);
        }),
      );
    }
  }
}

/** What the administrator does once the device is back, if anything: re-create a removed port. */
export async function afterRestore(lab: Lab, action: AdminAction): Promise<AdminOutcome | undefined> {
  if (action !== 'remove-target-port') return undefined;
  const t = lab.target.agent;
  const what = `mkdir ${PORT} (rdma ${lab.targetAddr}:${TRSVCID}) and link ${LAB_NQN}`;
  return t.guard.allow(what, () =>
    attempt(action, what, () => applyTarget(t.fs(), labTargetConfig(lab))),
  );
}
