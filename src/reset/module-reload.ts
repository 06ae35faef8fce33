// module-reload: rdma_rxe is removed (every rxe device goes with it) and loaded again.
import { createRxe, rxeGone } from './device.js';
import type { Injector } from './types.js';
import { RXE_MODULE_UNLOAD_MS } from '../util/timeouts.js';

export const moduleReload: Injector = {
  kind: 'module-reload',
  describe: 'modprobe -r rdma_rxe, then modprobe rdma_rxe and a new rxe device',
  async trigger(site) {
    await site.vm.agent.check(['modprobe', '-r', 'rdma_rxe'], { deadlineMs: RXE_MODULE_UNLOAD_MS });
    await rxeGone(site);
  },
  async restore(site) {
    await site.vm.agent.check(['modprobe', 'rdma_rxe']);
    await createRxe(site);
  },
};
