// Guest operations on RDMA devices and links, through the orchestrator's netlink code.
import { z } from 'zod';
import { RdmaNl, Rtnl } from '../orchestrate/netlink/index.js';
import { fabricsConnectInGuest } from '../orchestrate/configfs/index.js';
import type { Op } from './ops.js';

const nowNs = (): string => process.hrtime.bigint().toString();

/** Opens a netlink socket for one operation and always closes it. */
async function using<S extends { close(): void }, T>(open: () => S, fn: (nl: S) => Promise<T>): Promise<T> {
  const nl = open();
  try {
    return await fn(nl);
  } finally {
    nl.close();
  }
}

const withRdma = <T>(fn: (nl: RdmaNl) => Promise<T>): Promise<T> => using(() => RdmaNl.open(), fn);
const withRtnl = <T>(fn: (nl: Rtnl) => Promise<T>): Promise<T> => using(() => Rtnl.open(), fn);

const Name = z.object({ name: z.string().min(1) });

export const rdmaOps: Record<string, Op> = {
  devices: async () => withRdma((nl) => nl.listDevices()),
  ports: async () => withRdma((nl) => nl.listPorts()),
  newLink: async (raw) => {
    const a = z.object({ name: z.string().min(1), netdev: z.string().min(1), type: z.string().default('rxe') }).parse(raw);
    const dev = await withRdma((nl) => nl.newLink(a.name, a.netdev, a.type));
    return { device: dev, monoNs: nowNs() };
  },
  delLink: async (raw) => {
    const a = Name.parse(raw);
    await withRdma((nl) => nl.delLink(a.name));
    return { monoNs: nowNs() };
  },
};

export const rtnlOps: Record<string, Op> = {
  links: async () => withRtnl((nl) => nl.listLinks()),
  addrs: async (raw) => withRtnl((nl) => nl.listAddrs(z.object({ name: z.string().optional() }).parse(raw).name)),
  setUp: async (raw) => {
    const a = z.object({ name: z.string().min(1), up: z.boolean() }).parse(raw);
    await withRtnl((nl) => nl.setLinkUp(a.name, a.up));
    return { monoNs: nowNs() };
  },
  addAddr: async (raw) => {
    const a = z.object({ name: z.string().min(1), cidr: z.string().min(1) }).parse(raw);
    await withRtnl((nl) => nl.addAddr(a.name, a.cidr, { ifExists: 'ok' }));
    return { monoNs: nowNs() };
  },
};

export const fabricsOps: Record<string, Op> = {
  connect: async (raw) => fabricsConnectInGuest(z.object({ options: z.string().min(1) }).parse(raw).options),
};
