// Why: a host sees RDMA devices come and go that have nothing to do with its NVMe
// controllers (SR-IOV VFs, another rxe or siw device). nvme-rdma's ib_client .add is
// called for each; the admin action add-unrelated-rdma-devices makes such devices on
// purpose (a dummy netdev and an rxe device on it), and takes them away again after,
// so that a run leaves no device and no RDMA object behind.
import type { AgentClient } from '../vm/agent-client.js';
import { NETDEV_CHANGE_MS, RXE_DELLINK_MS, RXE_NEWLINK_MS, VIRTUAL_LINK_ADD_MS } from '../util/timeouts.js';

type Agent = Pick<AgentClient, 'call' | 'fs'>;

/** The i-th unrelated device's netdev and rxe names (0-based). */
export function unrelatedNames(i: number): { netdev: string; rxe: string } {
  return { netdev: `rbdummy${i}`, rxe: `rbrxe${i}` };
}

/** As a person would type it, for the timeline and the verdict. */
export function describeAdd(i: number): string {
  const { netdev, rxe } = unrelatedNames(i);
  return `ip link add ${netdev} type dummy; ip link set ${netdev} up; rdma link add ${rxe} type rxe netdev ${netdev}`;
}

/** The dummy module loaded ahead, so that no addition waits for a module load from 9p. */
export async function loadDummy(agent: Pick<AgentClient, 'check' | 'fs'>): Promise<void> {
  if (!(await agent.fs().exists('/sys/module/dummy'))) await agent.check(['modprobe', 'dummy'], { deadlineMs: VIRTUAL_LINK_ADD_MS });
}

/**
 * A dummy netdev, up, and an rxe device on it. NEWLINK returns once the device is
 * registered, i.e. after every ib_client's .add ran: no wait for the port to be ACTIVE.
 */
export async function addUnrelated(agent: Agent, i: number): Promise<void> {
  const { netdev, rxe } = unrelatedNames(i);
  await agent.call('rtnl.addLink', { name: netdev, kind: 'dummy' }, VIRTUAL_LINK_ADD_MS);
  await agent.call('rtnl.setUp', { name: netdev, up: true }, NETDEV_CHANGE_MS);
  await agent.call('rdma.newLink', { name: rxe, netdev, type: 'rxe' }, RXE_NEWLINK_MS);
}

/** Every one of the `count` devices that exists: its rxe device deleted, then its netdev. Returns what it removed. */
export async function removeUnrelated(agent: Agent, count: number): Promise<string[]> {
  const removed: string[] = [];
  for (let i = 0; i < count; i++) {
    const { netdev, rxe } = unrelatedNames(i);
    if (await agent.fs().exists(`/sys/class/infiniband/${rxe}`)) {
      await agent.call('rdma.delLink', { name: rxe }, RXE_DELLINK_MS);
      removed.push(rxe);
    }
    if (await agent.fs().exists(`/sys/class/net/${netdev}`)) {
      await agent.call('rtnl.delLink', { name: netdev }, NETDEV_CHANGE_MS);
      removed.push(netdev);
    }
  }
  return removed;
}
