// Guest operations on RDMA devices and links, through the orchestrator's netlink code.
import { RdmaNl, Rtnl } from '../orchestrate/netlink/index.js';
// Not the configfs index: that loads the nvmet model and zod, which the agent does not need.
import { fabricsConnectInGuest } from '../orchestrate/configfs/fabrics.js';
import { bool, optInt, optStr, str } from './args.js';
import type { Op } from './ops.js';

const nowNs = (): string => process.hrtime.bigint().toString();

/** Opens a netlink socket for one operation and always closes it (awaited: close
 *  waits for a receive in flight, and a failure there must not go unhandled). */
async function using<S extends { close(): Promise<void> }, T>(open: () => S, fn: (nl: S) => Promise<T>): Promise<T> {
  const nl = open();
  try {
    return await fn(nl);
  } finally {
    await nl.close();
  }
}

const withRdma = <T>(fn: (nl: RdmaNl) => Promise<T>): Promise<T> => using(() => RdmaNl.open(), fn);
const withRtnl = <T>(fn: (nl: Rtnl) => Promise<T>): Promise<T> => using(() => Rtnl.open(), fn);

export const rdmaOps: Record<string, Op> = {
  // NEWLINK and DELLINK may take long (see RXE_NEWLINK_MS, RXE_DELLINK_MS): the kernel's
  // answer may take as long as the host allows the operation.
  newLink: async (raw, deadlineMs) => {
    const a = { name: str(raw, 'name'), netdev: str(raw, 'netdev'), type: optStr(raw, 'type') ?? 'rxe' };
    const dev = await withRdma((nl) => nl.newLink(a.name, a.netdev, a.type, deadlineMs));
    return { device: dev, monoNs: nowNs() };
  },
  resources: async () => withRdma((nl) => nl.resources()),
  listeners: async () => withRdma((nl) => nl.listeners()),
  delLink: async (raw, deadlineMs) => {
    const name = str(raw, 'name');
    await withRdma((nl) => nl.delLink(name, deadlineMs));
    return { monoNs: nowNs() };
  },
};

export const rtnlOps: Record<string, Op> = {
  setUp: async (raw) => {
    const a = { name: str(raw, 'name'), up: bool(raw, 'up'), mtu: optInt(raw, 'mtu', 68, 65535) };
    await withRtnl((nl) => nl.setLinkUp(a.name, a.up, a.mtu));
    return { monoNs: nowNs() };
  },
  addLink: async (raw, deadlineMs) => {
    const a = { name: str(raw, 'name'), kind: str(raw, 'kind') };
    await withRtnl((nl) => nl.addLink(a.name, a.kind, deadlineMs));
    return { monoNs: nowNs() };
  },
  delLink: async (raw) => {
    const name = str(raw, 'name');
    await withRtnl((nl) => nl.delLink(name));
    return { monoNs: nowNs() };
  },
  addAddr: async (raw) => {
    const a = { name: str(raw, 'name'), cidr: str(raw, 'cidr') };
    await withRtnl((nl) => nl.addAddr(a.name, a.cidr, { ifExists: 'ok' }));
    return { monoNs: nowNs() };
  },
};

export const fabricsOps: Record<string, Op> = {
  connect: async (raw) => fabricsConnectInGuest(str(raw, 'options')),
};
