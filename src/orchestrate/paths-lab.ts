// Two paths to one subsystem (the pair2 topology): the target exports the lab's
// namespace on an RDMA port per link, and the host connects to it once per link, with
// the same host NQN and id, so native multipath makes one head with a path per link.
// The paths' controllers are what a multipath verdict is about; the loader runs on the
// head.
import type { LabLink } from '../vm/topology.js';
import { CONNECT_LIVE_MS } from '../util/timeouts.js';
import { applyTarget, connectAndWaitLive, type TargetConfigInput } from './configfs/index.js';
import {
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

/** One connected path: its link and its controller. */
export interface HostPath {
  link: number;
  device: string;
}

/** The target's configuration: the ramdisk as namespace 1 behind an RDMA port on each link (port id = link + 1). */
export function pathsTargetConfig(links: readonly LabLink[]): TargetConfigInput {
  return {
    hosts: [],
    subsystems: [{ nqn: LAB_NQN, allowAnyHost: true, namespaces: [{ nsid: 1, path: '/dev/ram0', backing: 'block', enable: true }] }],
    ports: links.map((l) => ({ portid: l.index + 1, trtype: 'rdma', adrfam: 'ipv4', traddr: l.targetAddr, trsvcid: TRSVCID, subsystems: [LAB_NQN] })),
  };
}

/** Target: an rxe device per link, the ramdisk, nvmet-rdma and a port per link. */
export async function setupTargetPaths(lab: PathsLab, ramdiskMiB = 256): Promise<void> {
  const t = lab.target.agent;
  for (const l of lab.links) await ensureRxeOn(t, rxeOf(l.index), l.netdev);
  await t.check(['modprobe', 'brd', 'rd_nr=1', `rd_size=${ramdiskMiB * 1024}`]);
  await t.check(['modprobe', 'nvmet-rdma']);
  await applyTarget(t.fs(), pathsTargetConfig(lab.links));
}

/** Host: an rxe device per link and nvme-rdma loaded. */
export async function prepareHostPaths(lab: PathsLab): Promise<void> {
  const h = lab.host.agent;
  for (const l of lab.links) await ensureRxeOn(h, rxeOf(l.index), l.netdev);
  if (!(await h.fs().exists('/sys/module/nvme_rdma'))) await h.check(['modprobe', 'nvme-rdma']);
}

/**
 * Connects over each link in `connect` (in that order), each controller live before
 * the next; returns the paths and the multipath head's namespace (the first path's
 * namespace with its controller instance taken out: nvme0c1n1 -> nvme0n1).
 */
export async function connectPaths(lab: PathsLab, connect: readonly number[], opts: ConnectOptions): Promise<{ paths: HostPath[]; head: HostController }> {
  const paths: HostPath[] = [];
  let head: HostController | undefined;
  for (const i of connect) {
    const link = lab.links[i];
    if (!link) throw new Error(`the lab has no link ${i} (it has ${lab.links.length})`);
    const c = await connectAndWaitLive(hostFabricsPort(lab), lab.host.agent.fs(), { ...labFabricsOptions(lab, opts), traddr: link.targetAddr }, { deadlineMs: CONNECT_LIVE_MS });
    paths.push({ link: i, device: c.device });
    head ??= await findNamespace(lab, c.device, c.options);
  }
  if (!head) throw new Error('no path to connect: paths.connect is empty');
  return { paths, head };
}
