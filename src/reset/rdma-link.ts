// rdma-link: RDMA netlink DELLINK of the rxe device, then NEWLINK on the same netdev.
import { createRxe, rxeGone } from './device.js';
import type { Injector } from './types.js';

export const rdmaLink: Injector = {
  kind: 'rdma-link',
  describe: 'RDMA netlink DELLINK of the rxe device, then NEWLINK on the same netdev',
  async trigger(site) {
    await site.vm.agent.call('rdma.delLink', { name: site.rxe }, 150_000);
    await rxeGone(site);
  },
  async restore(site) {
    await createRxe(site);
  },
};
