// module-reload: rdma_rxe is removed (every rxe device goes with it) and loaded again.
// With hold_tx the netdev's queue holds the skbs sent just before the unload, which
// must return all the same; the queue is let go before the module comes back.
import { createRxe, rxeGone } from './device.js';
import { holdTx, releaseTx } from './hold-tx.js';
import type { Injector } from './types.js';
import { RXE_MODULE_UNLOAD_MS } from '../util/timeouts.js';

export const moduleReload: Injector = {
  kind: 'module-reload',
  runsTools: true,
  describe: 'modprobe -r rdma_rxe, then modprobe rdma_rxe and a new rxe device',
  async trigger(site) {
    if (site.holdTx) await holdTx(site);
    await site.vm.agent.check(['modprobe', '-r', 'rdma_rxe'], { deadlineMs: RXE_MODULE_UNLOAD_MS });
    await rxeGone(site);
  },
  async restore(site) {
    if (site.holdTx) await releaseTx(site);
    await site.vm.agent.check(['modprobe', 'rdma_rxe']);
    await createRxe(site);
  },
};
