// The NVMe-oF set-up in the lab: rxe devices, a ramdisk-backed nvmet subsystem on an
// RDMA port in the target VM, and the host's controller connected through
// /dev/nvme-fabrics. Everything through configfs, netlink and the agent.
import type { Lab } from '../vm/topology.js';
import type { Machine } from '../vm/machine.js';
import { applyTarget, connectAndWaitLive, type FabricsOptions, type FabricsPort, type TargetConfigInput } from './configfs/index.js';

export const LAB_NQN = 'nqn.2026-11.dev.reset-bench:lab';
export const LAB_HOSTNQN = 'nqn.2026-11.dev.reset-bench:host';
export const RXE = 'rxe0';
export const NETDEV = 'eth0';
export const TRSVCID = '4420';

export interface ConnectOptions {
  reconnect_delay?: number;
  ctrl_loss_tmo?: number;
  fast_io_fail_tmo?: number;
  keep_alive_tmo?: number;
  nr_io_queues?: number;
  queue_size?: number;
}

async function ensureRxe(vm: Machine): Promise<void> {
  await vm.agent.check(['modprobe', 'rdma_rxe']);
  if (await vm.agent.fs().exists(`/sys/class/infiniband/${RXE}`)) return;
  await vm.agent.call('rdma.newLink', { name: RXE, netdev: NETDEV, type: 'rxe' });
  await vm.agent.waitFor(`/sys/class/infiniband/${RXE}/ports/1/state`, 'matches', 'ACTIVE', 15_000);
}

/** Target: a 256 MiB brd ramdisk (stores data, so writes can be verified) as namespace 1. */
export async function setupTarget(lab: Lab, ramdiskMiB = 256): Promise<void> {
  const t = lab.target;
  await ensureRxe(t);
  await t.agent.check(['modprobe', 'brd', 'rd_nr=1', `rd_size=${ramdiskMiB * 1024}`]);
  await t.agent.check(['modprobe', 'nvmet-rdma']);
  await applyTarget(t.agent.fs(), labTargetConfig(lab));
}

/** The lab's nvmet configuration: the ramdisk as namespace 1 behind RDMA port 1. */
export function labTargetConfig(lab: Lab): TargetConfigInput {
  return {
    hosts: [],
    subsystems: [{ nqn: LAB_NQN, allowAnyHost: true, namespaces: [{ nsid: 1, path: '/dev/ram0', backing: 'block', enable: true }] }],
    ports: [{ portid: 1, trtype: 'rdma', adrfam: 'ipv4', traddr: lab.targetAddr, trsvcid: TRSVCID, subsystems: [LAB_NQN] }],
  };
}

export interface HostController {
  device: string;
  namespace: string;
  options: string;
}

/** Host: rxe and nvme-rdma loaded, ready to connect. */
export async function prepareHost(lab: Lab): Promise<void> {
  const h = lab.host;
  if (lab.host !== lab.target) await ensureRxe(h);
  // A process start costs half a second under TCG: skip it when already loaded.
  if (!(await h.agent.fs().exists('/sys/module/nvme_rdma'))) await h.agent.check(['modprobe', 'nvme-rdma']);
}

/** The lab's /dev/nvme-fabrics options for a connect with these settings. */
export function labFabricsOptions(lab: Lab, opts: ConnectOptions): FabricsOptions {
  return { transport: 'rdma', traddr: lab.targetAddr, trsvcid: TRSVCID, nqn: LAB_NQN, hostnqn: LAB_HOSTNQN, ...opts };
}

/** The host's write to /dev/nvme-fabrics, through the agent. */
export function hostFabricsPort(lab: Lab, deadlineMs = 60_000): FabricsPort {
  return { connect: (options) => lab.host.agent.call<string>('fabrics.connect', { options }, deadlineMs) };
}

/** Host: rxe, nvme-rdma, connect, wait for live, and find the namespace's block device. */
export async function connectHost(lab: Lab, opts: ConnectOptions): Promise<HostController> {
  await prepareHost(lab);
  const c = await connectAndWaitLive(hostFabricsPort(lab), lab.host.agent.fs(), labFabricsOptions(lab, opts), { deadlineMs: 60_000 });
  return findNamespace(lab, c.device, c.options);
}

/** A live controller's namespace block device (and multipath path device). */
export async function findNamespace(lab: Lab, device: string, options: string): Promise<HostController> {
  const h = lab.host;
  const c = { device };
  const ns0 = await h.agent.waitFor(`/sys/class/nvme/${c.device}`, 'exists', undefined, 10_000).then(async () => {
    const entries = await h.agent.fs().readdir(`/sys/class/nvme/${c.device}`);
    const n = entries.find((e) => /^nvme\d+c?\d*n\d+$/.test(e));
    if (!n) throw new Error(`controller ${c.device} has no namespace in sysfs`);
    return n;
  });
  const ns = ns0.replace(/c\d+n/, 'n');
  // devtmpfs makes the node when the disk is added; a loader started before that would
  // create a plain file in its place. Wait until it is a block device.
  const isBlock = async (): Promise<boolean> =>
    (await h.agent.exec(['test', '-b', `/dev/${ns}`])).exitCode === 0;
  const end = Date.now() + 15_000;
  while (!(await isBlock())) {
    if (Date.now() > end) throw new Error(`/dev/${ns} did not appear as a block device within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { device, namespace: `/dev/${ns}`, options };
}
