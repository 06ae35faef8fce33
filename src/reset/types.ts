// Reset injectors: one interface for every way an RDMA device can go away and come
// back. trigger() makes it go away; restore() brings it back as an init system would
// (NIC present, address configured, rxe device created), with no NVMe admin action.
import type { Machine } from '../vm/machine.js';

export const RESET_KINDS = ['rdma-link', 'pci-rebind', 'hotplug', 'link-flap', 'module-reload'] as const;
export type ResetKind = (typeof RESET_KINDS)[number];

/** The RDMA device of one VM and what it sits on. */
export interface RdmaSite {
  vm: Machine;
  netdev: string;
  rxe: string;
  /** The netdev's address, "a.b.c.d/nn", restored after a re-plug. */
  cidr: string;
  /** The netdev's MTU, set again after a re-plug (a new netdev starts at 1500); absent: left as it comes. */
  mtu?: number;
  /** QEMU id of the NIC (for hotplug). */
  nicId: string;
  /** The -device properties to plug the same NIC back. */
  nicDevice: string;
  /** The name the rxe device comes back under, when not `rxe` (a renamed device). */
  restoreAs?: string;
  /** Where the netdev's address is restored (re-plug, rebind): this long after the rxe device, ms. */
  addressDelayMs?: number;
  /** module-reload: the netdev's queue holds the skbs sent before the unload (hold_tx). */
  holdTx?: boolean;
}

export interface Injector {
  kind: ResetKind;
  /** What the reset does, for reports. */
  describe: string;
  /** Whether its trigger or restore starts a process in the guest (the agent's exec, execa). */
  runsTools: boolean;
  trigger(site: RdmaSite): Promise<void>;
  restore(site: RdmaSite): Promise<void>;
}
