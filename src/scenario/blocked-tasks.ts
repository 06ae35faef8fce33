// Why: a device removal that never returns is a kernel hang, and the reader of a FAIL
// needs to know where each task waits (rdma_cm's removal, nvme-rdma's CM wait, a
// controller reset). The guest's /proc/<pid>/stack says it; this reads those texts and
// keeps the tasks that wait in the RDMA or NVMe layers, each as its first frames. Pure.

/** One task's kernel stack as read from /proc/<pid>/stack. */
export interface TaskStack {
  pid: number;
  comm: string;
  stack: string;
}

export interface BlockedTask {
  pid: number;
  comm: string;
  /** Its frames, innermost first, without the scheduler's and the completion's own. */
  frames: string[];
}

/** Frames that say only "sleeping": the frame that called them says why. */
const GENERIC = /^(__schedule|schedule\w*|__wait_for_common|wait_for_common\w*|wait_for_completion\w*|do_wait_for_common|io_schedule\w*|__flush_work\.isra\.\d+)$/;

/** A task is about the scenario when its stack is in one of these layers. */
const LAYERS = /\b(nvme_rdma_\w+|nvme_reset_ctrl\w*|nvme_sysfs_\w+|cma_\w+|rdma_\w+|ib_unregister\w*|__ib_unregister\w*|disable_device|remove_client_context)\+/;

/** "[<0>] cma_process_remove+0x1e0/0x240 [rdma_cm]" -> "cma_process_remove [rdma_cm]". */
export function parseFrames(stack: string): string[] {
  const frames: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s*\[<[0-9a-f]+>\]\s+([\w.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+(?:\s+\[(\w+)\])?/.exec(line);
    if (m) frames.push(m[2] ? `${m[1]!} [${m[2]}]` : m[1]!);
  }
  return frames;
}

/** The tasks waiting in the RDMA or NVMe layers, with their frames (pure). */
export function blockedTasks(stacks: readonly TaskStack[]): BlockedTask[] {
  return stacks
    .filter((s) => LAYERS.test(s.stack))
    .map((s) => ({ pid: s.pid, comm: s.comm, frames: parseFrames(s.stack).filter((f) => !GENERIC.test(f.split(' ')[0]!)) }))
    .sort((a, b) => a.pid - b.pid);
}

/** "rdma (pid 312) in cma_process_remove [rdma_cm] < cma_remove_one [rdma_cm] < ..." with at most `depth` frames. */
export function describeTask(t: BlockedTask, depth = 5): string {
  return `${t.comm} (pid ${t.pid}) in ${t.frames.slice(0, depth).join(' < ') || 'an unknown frame'}`;
}
