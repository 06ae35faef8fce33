// hotplug: QMP device_del of the NIC on its PCIe root port (ACPI/PCIe hot-unplug), then
// device_add of the same NIC; the guest sees a new netdev with no address and no rxe.
import { restoreRdmaDevice, rxeGone, waitNetdev } from './device.js';
import type { Injector } from './types.js';
import { NIC_UNPLUG_MS } from '../util/timeouts.js';

export const hotplug: Injector = {
  kind: 'hotplug',
  runsTools: false,
  describe: 'QMP device_del of the virtio-net NIC, then device_add of the same NIC',
  async trigger(site) {
    await site.vm.qmp.executeAndWait(
      'device_del',
      { id: site.nicId },
      { name: 'DEVICE_DELETED', match: (e) => e.data?.device === site.nicId, deadlineMs: NIC_UNPLUG_MS },
    );
    await waitNetdev(site, false);
    await rxeGone(site);
  },
  async restore(site) {
    const props = Object.fromEntries(
      site.nicDevice
        .split(',')
        .slice(1)
        .map((kv) => kv.split('=') as [string, string]),
    );
    await site.vm.qmp.execute('device_add', { driver: site.nicDevice.split(',')[0], ...props });
    await waitNetdev(site, true);
    await restoreRdmaDevice(site, { address: true });
  },
};
