// pci-rebind: unbind the NIC's PCI function from its driver through sysfs and bind it
// again; the netdev and the rxe device on it vanish with the unbind.
import { pciAddressOf, restoreRdmaDevice, rxeGone, waitNetdev } from './device.js';
import type { Injector, RdmaSite } from './types.js';
import { NIC_BIND_MS, NIC_UNBIND_MS } from '../util/timeouts.js';

const addrs = new WeakMap<RdmaSite, string>();

export const pciRebind: Injector = {
  kind: 'pci-rebind',
  runsTools: false,
  describe: 'sysfs unbind of the NIC from virtio-pci, then bind; address and rxe restored',
  async trigger(site) {
    const addr = await pciAddressOf(site);
    addrs.set(site, addr);
    await site.vm.agent.call('writeFile', { path: '/sys/bus/pci/drivers/virtio-pci/unbind', data: addr }, NIC_UNBIND_MS);
    await waitNetdev(site, false);
    await rxeGone(site);
  },
  async restore(site) {
    const addr = addrs.get(site);
    if (!addr) throw new Error('pci-rebind restore without a trigger');
    await site.vm.agent.call('writeFile', { path: '/sys/bus/pci/drivers/virtio-pci/bind', data: addr }, NIC_BIND_MS);
    await waitNetdev(site, true);
    await restoreRdmaDevice(site, { address: true });
  },
};
