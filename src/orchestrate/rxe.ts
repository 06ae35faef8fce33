// Why: the lab set-up and the reset injectors both create soft-RoCE (rxe) devices and
// wait for them to work; one place does it, with one deadline.
import type { AgentClient } from '../vm/agent-client.js';
import { RXE_ACTIVE_MS, RXE_NEWLINK_MS } from '../util/timeouts.js';

type RxeAgent = Pick<AgentClient, 'call' | 'waitFor'>;

/** RDMA netlink NEWLINK of an rxe device on `netdev`, then the wait for port 1 ACTIVE. */
export async function createRxe(agent: RxeAgent, rxe: string, netdev: string): Promise<void> {
  await agent.call('rdma.newLink', { name: rxe, netdev, type: 'rxe' }, RXE_NEWLINK_MS);
  await waitRxeActive(agent, rxe);
}

/** Port 1 of the rxe device ACTIVE (its netdev up with carrier). */
export async function waitRxeActive(agent: Pick<RxeAgent, 'waitFor'>, rxe: string): Promise<void> {
  await agent.waitFor(`/sys/class/infiniband/${rxe}/ports/1/state`, 'matches', 'ACTIVE', RXE_ACTIVE_MS);
}
