// Two paths to one subsystem (the pair2 topology): the target exports the lab's
// namespace on an RDMA port per link, and the host connects to it once per link, with
// the same host NQN and id, so native multipath makes one head with a path per link.
// The paths' controllers are what a multipath verdict is about; the loader runs on the
// head.
import type { LabLink } from '../vm/topology.js';
import { CONNECT_LIVE_MS } from '../util/timeouts.js';
import { connectAndWaitLive, type TargetConfigInput } from './configfs/index.js';
import { LAB_RAMDISK_MIB } from '../vm/ramdisk.js';
import {
  applyTargetIn,
  ensureModule,
  ensureRamdisks,
  ensureRxeOn,
  findNamespace,
  hostFabricsPort,
  labFabricsOptions,
  LAB_NQN,
  rxeOf,
  TRSVCID,
  type ConnectOptions,
  type HostController,
  type NvmeLab,
} from './nvme-lab.js';

export interface PathsLab extends NvmeLab {
  links: LabLink[];
}

export type Transport = 'rdma' | 'tcp';
/** The transport of link i: rdma unless the scenario says tcp. */
const transportOf = (transports: readonly Transport[] | undefined, i: number): Transport => transports?.[i] ?? 'rdma';

/** One connected path: its link, its transport and its controller. */
export interface HostPath {
  link: number;
  transport: Transport;
  device: string;
}

/** The target's configuration: the ramdisk as namespace 1 behind an RDMA port on each link (port id = link + 1). */
export function pathsTargetConfig(links: readonly LabLink[], transports?: readonly Transport[]): TargetConfigInput {
  return {
    hosts: [],
    subsystems: [{ nqn: LAB_NQN, allowAnyHost: true, namespaces: [{ nsid: 1, path: '/dev/ram0', backing: 'block', enable: true }] }],
    ports: links.map((l) => ({
      portid: l.index + 1,
      trtype: transportOf(transports, l.index),
      adrfam: 'ipv4',
      traddr: l.targetAddr,
      trsvcid: TRSVCID,
      subsystems: [LAB_NQN],
    })),
  };
}

/** One side's modules and rxe devices: an rxe device on each RDMA link, `prefix`-rdma and -tcp as the links need. */
async function prepareSide(agent: PathsLab['host']['agent'], links: readonly LabLink[], transports: readonly Transport[] | undefined, prefix: 'nvme' | 'nvmet'): Promise<void> {
  for (const l of links) if (transportOf(transports, l.index) === 'rdma') await ensureRxeOn(agent, rxeOf(l.index), l.netdev);
  for (const tr of new Set(links.map((l) => transportOf(transports, l.index)))) {
    await ensureModule(agent, `${prefix}_${tr}`);
  }
}

/** Target: the ramdisk, and per link an rxe device (RDMA links), the transport's nvmet module and a port. */
export async function setupTargetPaths(lab: PathsLab, transports?: readonly Transport[], ramdiskMiB = LAB_RAMDISK_MIB): Promise<void> {
  const t = lab.target.agent;
  await ensureRamdisks(t, 1, ramdiskMiB);
  await prepareSide(t, lab.links, transports, 'nvmet');
  await applyTargetIn(t, pathsTargetConfig(lab.links, transports));
}

/** Host: an rxe device per RDMA link, nvme-rdma and (for a TCP link) nvme-tcp loaded. */
export async function prepareHostPaths(lab: PathsLab, transports?: readonly Transport[]): Promise<void> {
  await prepareSide(lab.host.agent, lab.links, transports, 'nvme');
}

/**
 * Connects over each link in `connect` (in that order), each controller live before
 * the next; returns the paths and the multipath head's namespace (the first path's
 * namespace with its controller instance taken out: nvme0c1n1 -> nvme0n1).
 */
export async function connectPaths(
  lab: PathsLab,
  connect: readonly number[],
  opts: ConnectOptions,
  transports?: readonly Transport[],
): Promise<{ paths: HostPath[]; head: HostController }> {
  const paths: HostPath[] = [];
  let head: HostController | undefined;
  for (const i of connect) {
    const link = lab.links[i];
    if (!link) throw new Error(`the lab has no link ${i} (it has ${lab.links.length})`);
    const c = await connectAndWaitLive(hostFabricsPort(lab), lab.host.agent.fs(), { ...labFabricsOptions(lab, opts), transport: transportOf(transports, i), traddr: link.targetAddr }, { deadlineMs: CONNECT_LIVE_MS });
    paths.push({ link: i, transport: transportOf(transports, i), device: c.device });
    head ??= await findNamespace(lab, c.device, c.options);
  }
  if (!head) throw new Error('no path to connect: paths.connect is empty');
  return { paths, head };
}
