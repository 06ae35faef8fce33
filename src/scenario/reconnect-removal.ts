// Why: patch 1 of the host series (nvme-rdma: end the CM wait on device removal during
// address resolution) is about one moment: rdma_cm removing a device while a queue's
// cm_id, bound to it by host_traddr, is still resolving the target's address. Stock
// nvme-rdma ignores that DEVICE_REMOVAL, rdma_cm cancels the query without a callback,
// and the queue's wait, and with it the removal, never end. This module makes that
// moment on purpose: the target stops answering ARP (arp_ignore 8) and the host forgets
// its neighbours, so the host's keep-alive times out and error recovery starts a
// reconnect whose address resolution waits for an answer; the device is removed then, by
// `rdma link delete` in its own process (a DELLINK runs in the sender's context, and the
// agent's own netlink call would stop the agent with it).
import type { ExecResult } from '../guest/ops.js';
import { NETDEV, RXE, type LabAgent } from '../orchestrate/nvme-lab.js';
import { HarnessError } from '../util/errors.js';
import { NEIGH_FLUSH_MS, RECONNECT_START_MS, TASK_STACKS_MS } from '../util/timeouts.js';
import type { TaskStack } from './blocked-tasks.js';

const arpIgnore = (netdev: string): string => `/proc/sys/net/ipv4/conf/${netdev}/arp_ignore`;

/** arp_ignore 8: "do not reply for any local address". Returns the value to put back. */
export async function holdArp(target: LabAgent, netdev = NETDEV): Promise<string> {
  const before = (await target.fs().readFile(arpIgnore(netdev))).trim();
  await target.fs().writeFile(arpIgnore(netdev), '8');
  return before;
}

export async function releaseArp(target: LabAgent, before: string, netdev = NETDEV): Promise<void> {
  await target.fs().writeFile(arpIgnore(netdev), before);
}

/** The host's neighbour entries on the lab link gone: the next resolution has to ask ARP. */
export async function flushNeighbours(host: LabAgent, netdev = NETDEV): Promise<void> {
  await host.check(['ip', 'neigh', 'flush', 'dev', netdev], { deadlineMs: NEIGH_FLUSH_MS });
}

/**
 * Waits until the controller reads "connecting": with no ARP answer its keep-alive (or
 * an I/O) timed out, error recovery tore the queues down (which needs no network, unlike
 * a controller reset's shutdown) and the first reconnect attempt starts reconnect_delay
 * later.
 */
export async function waitConnecting(host: LabAgent, controller: string): Promise<void> {
  await host.waitFor(`/sys/class/nvme/${controller}/state`, 'equals', 'connecting', RECONNECT_START_MS);
}

/** `rdma link delete` in its own guest process; settles when the kernel lets it return (or at deadlineMs). */
export function removeInOwnProcess(host: LabAgent, deadlineMs: number, rxe = RXE): Promise<ExecResult> {
  return host.exec(['rdma', 'link', 'delete', rxe], { deadlineMs });
}

/** A removal process that returned: it must have worked. */
export function checkRemoval(r: ExecResult, rxe = RXE): void {
  if (r.exitCode !== 0) throw new HarnessError(`guest: rdma link delete ${rxe} exited ${r.exitCode}: ${r.stderr.trim() || r.stdout.trim()}`);
}

/**
 * Every guest task's name and kernel stack, threads included (/proc/<pid>/task/<tid>/stack,
 * read as root; `pid` is the thread's id): the agent's netlink requests block in a worker
 * thread of its own, whose stack /proc/<pid>/stack (the main thread's) does not show. A
 * process whose task directory cannot be read is read as its main thread.
 */
export async function readTaskStacks(agent: LabAgent): Promise<TaskStack[]> {
  const fs = agent.fs(TASK_STACKS_MS);
  const pids = (await fs.readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
  const read = async (dir: string, pid: number): Promise<TaskStack | undefined> => {
    try {
      const [comm, stack] = await Promise.all([fs.readFile(`${dir}/comm`), fs.readFile(`${dir}/stack`)]);
      return { pid, comm: comm.trim(), stack };
    } catch {
      return undefined; // the task ended meanwhile
    }
  };
  const threads = async (pid: number): Promise<(TaskStack | undefined)[]> => {
    const tids = await fs.readdir(`/proc/${pid}/task`).then(
      (es) => es.filter((e) => /^\d+$/.test(e)).map(Number),
      () => undefined,
    );
    if (!tids) return [await read(`/proc/${pid}`, pid)];
    return Promise.all(tids.map((tid) => read(`/proc/${pid}/task/${tid}`, tid)));
  };
  return (await Promise.all(pids.map(threads))).flat().filter((s): s is TaskStack => s !== undefined);
}

/** What the run saw of the removal (run ms), for the timeline and the verdict. */
export interface RemovalRecord {
  /** ARP held back, the controller read "connecting", the removal started. */
  heldMs: number;
  connectingMs: number;
  goneMs: number;
  /** How long `rdma link delete` took; absent when it had not returned when the run gave up on it. */
  tookMs?: number;
  /** A removal that did not return: how long it was watched, and the tasks waiting in the RDMA or NVMe layers. */
  stuck?: { waitedMs: number; blocked: string[] };
}
