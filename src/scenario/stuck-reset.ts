// Why: on stock kernels a reset's trigger can block in the kernel for a long time behind
// the host controller's deletion (stock 6.1: the PCI unbind of host-pci-rebind returned
// after 93 s; the controller read "deleting (no IO)" 1.7 s after it started). Once the
// controller is being deleted the verdict is certain: a controller in DELETING never goes
// back to LIVE, and when nothing in the scenario connects again (deletionIsFinal) it can
// never come back. So a trigger that has not returned by then ends the run: the tasks
// that wait are recorded, and the run does not wait out the kernel.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabAgent } from '../orchestrate/nvme-lab.js';
import { settlesWithin } from '../util/deadline.js';
import { blockedTasks, describeTask } from './blocked-tasks.js';
import { readTaskStacks } from './reconnect-removal.js';

/** A reset whose trigger had not returned when the run ended (run ms). */
export interface StuckReset {
  goneMs: number;
  /** How long the trigger had been waited for when the run ended. */
  waitedMs: number;
  /** The host controller's state then: deleting, deleting (no IO), dead or absent. */
  state: string;
  /** The tasks that wait in the RDMA or NVMe layers, each as its first frames. */
  blocked: string[];
}

/** Whether a controller state (absent: the controller is gone) can never become live again. */
export function isBeingDeleted(state: string): boolean {
  return state === 'absent' || state === 'dead' || state.startsWith('deleting');
}

/** The controller's state; 'absent' only when its sysfs file is gone (an agent that does not answer is an error, not a deletion). */
async function controllerState(agent: LabAgent, ctrl: string): Promise<string> {
  try {
    return (await agent.fs().readFile(`/sys/class/nvme/${ctrl}/state`)).trim();
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return 'absent';
    throw e;
  }
}

export interface DecideOptions {
  /** A trigger that returns within this is never cut short (stock rdma-link deletes at once and returns). */
  graceMs: number;
  /** How often the controller's state is read after that. */
  pollMs: number;
}

/**
 * Waits for the trigger; after graceMs, ends the wait early when the controller is
 * being deleted. Returns the state that ended it, or undefined when the trigger returned
 * (its error, if any, is the caller's to see by awaiting it).
 */
export async function stuckBehindDeletion(trigger: Promise<void>, agent: LabAgent, ctrl: string, o: DecideOptions): Promise<string | undefined> {
  if (await settlesWithin(trigger, o.graceMs)) return undefined;
  for (;;) {
    const state = await controllerState(agent, ctrl);
    if (isBeingDeleted(state)) return state;
    if (await settlesWithin(trigger, o.pollMs)) return undefined;
  }
}

/** The guest's tasks that wait in the RDMA or NVMe layers: saved in full (blocked-tasks.txt), returned short. */
export async function saveBlockedTasks(agent: LabAgent, runDir: string): Promise<string[]> {
  const stacks = await readTaskStacks(agent);
  const blocked = blockedTasks(stacks);
  const full = stacks.filter((s) => blocked.some((b) => b.pid === s.pid)).map((s) => `== ${s.comm} (pid ${s.pid})\n${s.stack}`);
  await writeFile(join(runDir, 'blocked-tasks.txt'), `${full.join('\n')}\n`);
  return blocked.map((b) => describeTask(b));
}
