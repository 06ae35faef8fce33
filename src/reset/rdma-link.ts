// rdma-link: RDMA netlink DELLINK of the rxe device, then NEWLINK on the same netdev.
import { createRxe, rxeGone } from './device.js';
import type { Injector } from './types.js';
import { RXE_DELLINK_MS } from '../util/timeouts.js';

export const rdmaLink: Injector = {
  kind: 'rdma-link',
  runsTools: false,
  describe: 'RDMA netlink DELLINK of the rxe device, then NEWLINK on the same netdev',
  async trigger(site) {
    await site.vm.agent.call('rdma.delLink', { name: site.rxe }, RXE_DELLINK_MS);
    await rxeGone(site);
  },
  async restore(site) {
    await createRxe(site);
  },
};
