// pciAddressOf: the NIC's PCI function under a netdev, from the agent's realpath of its
// sysfs device link (a virtio-net netdev hangs off virtioN, whose parent is the function).
import t from 'tap';
import { pciAddressOf } from '../../src/reset/device.js';
import type { RdmaSite } from '../../src/reset/types.js';
import { FakeAgent } from '../helpers/fake-lab-agent.js';

/** A site on eth1 whose agent resolves the device link to `answer`. */
function siteAnswering(answer: unknown): { site: RdmaSite; agent: FakeAgent } {
  const agent = new FakeAgent('host');
  agent.handlers.set('realpath', async () => answer);
  const site = { vm: { name: 'host', agent }, netdev: 'eth1', rxe: 'rxe0', cidr: '10.0.0.1/24', nicId: 'nic1', nicDevice: '' } as unknown as RdmaSite;
  return { site, agent };
}

t.test('the PCI function above virtio', async (t) => {
  const { site, agent } = siteAnswering('/sys/devices/pci0000:00/0000:00:03.0/virtio1');
  t.equal(await pciAddressOf(site), '0000:00:03.0');
  t.same(agent.ops('realpath'), [{ path: '/sys/class/net/eth1/device' }], 'of the netdev device link');
});

t.test('a NIC on a bridge: the function nearest the netdev', async (t) => {
  const { site } = siteAnswering('/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.1');
  t.equal(await pciAddressOf(site), '0000:01:00.1');
});

t.test('no PCI function, or no path: an error naming the netdev', async (t) => {
  await t.rejects(pciAddressOf(siteAnswering('/sys/devices/virtual/net/eth1').site), { message: /no PCI address for eth1: .* resolves to \/sys\/devices\/virtual\/net\/eth1/ });
  await t.rejects(pciAddressOf(siteAnswering(null).site), { message: /no PCI address for eth1: the agent's realpath of \/sys\/class\/net\/eth1\/device is not a path/ });
});
