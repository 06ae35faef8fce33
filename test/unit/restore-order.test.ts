// How a device comes back (renamed-device, ip-after-device): the scenario fields and
// their errors, the sites they give the injectors, and the order of the restore steps.
import t from 'tap';
import { restoreRdmaDevice } from '../../src/reset/device.js';
import type { RdmaSite } from '../../src/reset/types.js';
import { findScenario } from '../../src/scenario/catalog.js';
import { resetSites } from '../../src/scenario/real-lab.js';
import { parseScenario } from '../../src/scenario/spec.js';
import type { Machine } from '../../src/vm/machine.js';
import { labLink, type Lab } from '../../src/vm/topology.js';

t.test('restore: a new rxe name for one reset; a late address only where the address goes', async (t) => {
  const base = { name: 'r', side: 'host', reset: 'rdma-link' };
  t.equal(parseScenario({ ...base, restore: { rxe_name: 'rxe7' } }).restore?.rxe_name, 'rxe7');
  t.throws(() => parseScenario({ ...base, resets: 3, restore: { rxe_name: 'rxe7' } }), /restore\.rxe_name: only with resets: 1/);
  t.throws(() => parseScenario({ ...base, restore: { rxe_name: 'RXE 7' } }), /restore\.rxe_name: an RDMA device name like rxe1/);
  t.throws(() => parseScenario({ ...base, restore: { address_delay_ms: 3000 } }), /restore\.address_delay_ms: rdma-link keeps the netdev and its address; use reset: pci-rebind or hotplug/);
  t.equal(parseScenario({ ...base, reset: 'hotplug', restore: { address_delay_ms: 3000 } }).restore?.address_delay_ms, 3000);
});

t.test('the built-in cases carry the restore to the reset sites', async (t) => {
  const nic = { id: 'nic0', mac: 'm', link: { kind: 'hub', hubId: 0 }, rootPort: 'rp1' };
  const host = { name: 'host', opts: { nics: [nic] } } as unknown as Machine;
  const target = { name: 'target', opts: { nics: [nic] } } as unknown as Machine;
  const lab = { kind: 'pair', host, target, machines: [target, host], links: [labLink('pair', 0)] } as unknown as Lab;
  const [renamed] = resetSites(lab, findScenario('renamed-device'));
  t.equal(renamed!.rxe, 'rxe0', 'it goes as rxe0');
  t.equal(renamed!.restoreAs, 'rxe1', 'and comes back as rxe1');
  const [late] = resetSites(lab, findScenario('ip-after-device-target'));
  t.equal(late!.vm.name, 'target');
  t.equal(late!.addressDelayMs, 3000);
  t.equal(resetSites(lab, findScenario('host-pci-rebind'))[0]!.addressDelayMs, undefined, 'plain cases unchanged');
});

/** A site whose agent records the calls and waits made, with their times. */
function recordingSite(extra: Partial<RdmaSite>): { site: RdmaSite; calls: string[] } {
  const calls: string[] = [];
  const t0 = Date.now();
  const agent = {
    call: async (op: string, args: Record<string, unknown>) => void calls.push(`${op} ${String(args.name)} @${Math.round((Date.now() - t0) / 100) * 100}`),
    waitFor: async (path: string) => void calls.push(`waitFor ${path}`),
  };
  const site = { vm: { agent }, netdev: 'eth0', rxe: 'rxe0', cidr: '10.99.0.2/24', nicId: 'nic0', nicDevice: '', ...extra } as unknown as RdmaSite;
  return { site, calls };
}

t.test('restore order: address first as before; with address_delay_ms the rxe device first and the address late', async (t) => {
  const plain = recordingSite({});
  await restoreRdmaDevice(plain.site, { address: true });
  t.same(plain.calls.map((c) => c.split(' @')[0]), ['rtnl.addAddr eth0', 'rtnl.setUp eth0', 'rdma.newLink rxe0', 'waitFor /sys/class/infiniband/rxe0/ports/1/state']);
  const late = recordingSite({ addressDelayMs: 300, restoreAs: 'rxe1' });
  await restoreRdmaDevice(late.site, { address: true });
  t.same(late.calls, ['rtnl.setUp eth0 @0', 'rdma.newLink rxe1 @0', 'waitFor /sys/class/infiniband/rxe1/ports/1/state', 'rtnl.addAddr eth0 @300']);
});
