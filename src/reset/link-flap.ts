// link-flap: the netdev goes down and up (rtnetlink); the rxe device stays. The control
// case: stock kernels already recover from it.
import type { Injector } from './types.js';
import { RXE_ACTIVE_MS } from '../util/timeouts.js';

export const linkFlap: Injector = {
  kind: 'link-flap',
  runsTools: false,
  describe: 'rtnetlink link down, then up; the rxe device is not removed',
  async trigger(site) {
    await site.vm.agent.call('rtnl.setUp', { name: site.netdev, up: false });
  },
  async restore(site) {
    await site.vm.agent.call('rtnl.setUp', { name: site.netdev, up: true });
    await site.vm.agent.waitFor(`/sys/class/infiniband/${site.rxe}/ports/1/state`, 'matches', 'ACTIVE', RXE_ACTIVE_MS);
  },
};
