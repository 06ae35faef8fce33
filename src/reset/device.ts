// Steps shared by the injectors: bring an RDMA site's netdev and rxe device back.
import { pollUntil, sleep } from '../util/deadline.js';
import { createRxe as createRxeOn } from '../orchestrate/rxe.js';
import { z } from 'zod';
import { GUEST_FS_CALL_MS, NETDEV_CHANGE_MS, RXE_GONE_MS } from '../util/timeouts.js';
import type { RdmaSite } from './types.js';

export async function waitNetdev(site: RdmaSite, present: boolean, deadlineMs = NETDEV_CHANGE_MS): Promise<void> {
  await site.vm.agent.waitFor(`/sys/class/net/${site.netdev}/operstate`, present ? 'exists' : 'absent', undefined, deadlineMs);
}

/**
 * Address, MTU and link up on the netdev, then the rxe device on it, then wait for ACTIVE.
 * With addressDelayMs the order real hardware often has instead: link up, the RDMA
 * device registered, and only that long later the address (an init system's DHCP or
 * NetworkManager catching up).
 */
export async function restoreRdmaDevice(site: RdmaSite, opts: { address: boolean }): Promise<void> {
  const a = site.vm.agent;
  const addAddr = async () => void (await a.call('rtnl.addAddr', { name: site.netdev, cidr: site.cidr }));
  const late = opts.address && (site.addressDelayMs ?? 0) > 0;
  if (opts.address && !late) await addAddr();
  await a.call('rtnl.setUp', { name: site.netdev, up: true, ...(site.mtu !== undefined ? { mtu: site.mtu } : {}) });
  await createRxe(site);
  if (late) {
    await sleep(site.addressDelayMs ?? 0);
    await addAddr();
  }
}

/** The rxe device back on the site's netdev, under its name or the scenario's new one. */
export function createRxe(site: RdmaSite): Promise<void> {
  return createRxeOn(site.vm.agent, site.restoreAs ?? site.rxe, site.netdev);
}

export async function rxeGone(site: RdmaSite, deadlineMs = RXE_GONE_MS): Promise<void> {
  await site.vm.agent.waitFor(`/sys/class/infiniband/${site.rxe}`, 'absent', undefined, deadlineMs);
}

/**
 * The PCI address of the NIC under a netdev, from its sysfs device link, resolved by the
 * agent (op realpath): a `readlink -f` process took 2-3 s of the trigger in a host VM
 * whose agent runs the load, under TCG (docs/architecture.md, session 16).
 */
export async function pciAddressOf(site: RdmaSite, deadlineMs = GUEST_FS_CALL_MS): Promise<string> {
  const link = `/sys/class/net/${site.netdev}/device`;
  const out = z.string().safeParse(await site.vm.agent.call('realpath', { path: link }, deadlineMs));
  if (!out.success) throw new Error(`no PCI address for ${site.netdev}: the agent's realpath of ${link} is not a path`);
  // virtio-net's netdev hangs off a virtioN device whose parent is the PCI function.
  const addr = out.data
    .split('/')
    .reverse()
    .find((part) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(part));
  if (!addr) throw new Error(`no PCI address for ${site.netdev}: ${link} resolves to ${out.data}, with no PCI function in it`);
  return addr;
}

export { pollUntil };
