// The NVMe-oF set-up in the lab: rxe devices, a ramdisk-backed nvmet subsystem on an
// RDMA port in the target VM, and the host's controller connected through
// /dev/nvme-fabrics. Everything through configfs, netlink and the agent. It needs of a
// VM only its agent (LabAgent), so the scenario runner's tests drive it with a fake lab.
import type { AgentClient } from '../vm/agent-client.js';
import { pollUntil } from '../util/deadline.js';
import { DeadlineError, errorMessage } from '../util/errors.js';
import { CONNECT_LIVE_MS, FABRICS_CONNECT_WRITE_MS, GUEST_STATE_POLL_MS, NAMESPACE_NODE_MS, NAMESPACE_SYSFS_MS, NAMESPACE_SYSFS_POLL_MS, NVMET_APPLY_MS } from '../util/timeouts.js';
import { createRxe, waitRxeActive } from './rxe.js';
import { brdParams, LAB_RAMDISK_MIB } from '../vm/ramdisk.js';
import { connectAndWaitLive, parseTargetConfig, type ApplyResult, type FabricsOptions, type FabricsPort, type TargetConfigInput } from './configfs/index.js';

export const LAB_NQN = 'nqn.2026-11.dev.reset-bench:lab';
export const LAB_HOSTNQN = 'nqn.2026-11.dev.reset-bench:host';
/**
 * The host id that goes with LAB_HOSTNQN. Without one the kernel uses its default host's
 * id, and since 6.x nvme-fabrics refuses a known id with another NQN ("found same hostid
 * ... but different hostnqn", EINVAL): every connect on 6.12 failed so.
 */
export const LAB_HOSTID = '6f1d2b3c-5e7a-4c8b-9d0e-1f2a3b4c5d6e';
export const RXE = 'rxe0';
/** The rxe device on link i's netdev (eth<i>): rxe0, rxe1. */
export const rxeOf = (link: number): string => `rxe${link}`;
export const NETDEV = 'eth0';
export const TRSVCID = '4420';

/** What the lab set-up uses of a VM's agent channel (AgentClient is one). */
export type LabAgent = Pick<AgentClient, 'call' | 'exec' | 'check' | 'waitFor' | 'fs' | 'guard'>;

/** The lab as the NVMe set-up sees it: two agents (one on loopback) and the target's address. */
export interface NvmeLab {
  host: { agent: LabAgent };
  target: { agent: LabAgent };
  targetAddr: string;
}

export interface ConnectOptions {
  reconnect_delay?: number;
  ctrl_loss_tmo?: number;
  fast_io_fail_tmo?: number;
  keep_alive_tmo?: number;
  nr_io_queues?: number;
  queue_size?: number;
  /** The host's source address (`nvme connect -w`). */
  host_traddr?: string;
}

/**
 * `mod` loaded: stage 1 loads the role's lab modules at boot (ROLE_MODULES in
 * src/vm/initramfs.ts), so this modprobes only what a kernel did not have there.
 */
export async function ensureModule(agent: LabAgent, mod: string, params: string[] = []): Promise<void> {
  // A process start costs half a second under TCG: skip it when already loaded.
  if (!(await agent.fs().exists(`/sys/module/${mod.replace(/-/g, '_')}`))) await agent.check(['modprobe', mod, ...params]);
}

async function ensureRxe(agent: LabAgent): Promise<void> {
  await ensureRxeOn(agent, RXE, NETDEV);
}

/**
 * rdma_rxe loaded and an rxe device named `rxe` on `netdev`, its port ACTIVE: made unless
 * there (the VMs make the lab's at boot: LabOptions.rdmaLinks in src/vm/topology.ts).
 */
export async function ensureRxeOn(agent: LabAgent, rxe: string, netdev: string): Promise<void> {
  if (await agent.fs().exists(`/sys/class/infiniband/${rxe}`)) return waitRxeActive(agent, rxe);
  await ensureModule(agent, 'rdma_rxe');
  await createRxe(agent, rxe, netdev);
}

/** What brd's parameters say now: its ramdisk count and size (KiB), or undefined when brd is not loaded. */
async function brdShape(agent: LabAgent): Promise<{ rd_nr: string; rd_size: string } | undefined> {
  const fs = agent.fs();
  const dir = '/sys/module/brd/parameters';
  if (!(await fs.exists(dir))) return undefined;
  const [nr, size] = await Promise.all([fs.readFile(`${dir}/rd_nr`), fs.readFile(`${dir}/rd_size`)]);
  return { rd_nr: nr.trim(), rd_size: size.trim() };
}

/**
 * `count` brd ramdisks of `mib` MiB: stage 1 loads one of the lab's size at boot
 * (MODULE_PARAMS in src/vm/initramfs.ts), which is kept when it is the shape wanted (no
 * process start); another shape unloads brd (nothing uses it yet) and loads it again.
 */
export async function ensureRamdisks(agent: LabAgent, count: number, mib: number): Promise<void> {
  const want = brdParams(count, mib);
  const now = await brdShape(agent);
  if (now && want.join(' ') === `rd_nr=${now.rd_nr} rd_size=${now.rd_size}`) return;
  if (now) await agent.check(['modprobe', '-r', 'brd']);
  await agent.check(['modprobe', 'brd', ...want]);
}

/**
 * Target: a 256 MiB brd ramdisk (stores data, so writes can be verified) as namespace 1,
 * or `shape`'s configuration over `shape.ramdisks` of them (/dev/ram0, /dev/ram1...).
 */
export async function setupTarget(lab: NvmeLab, ramdiskMiB = LAB_RAMDISK_MIB, shape: { config?: TargetConfigInput; ramdisks?: number } = {}): Promise<void> {
  const t = lab.target.agent;
  // Independent until the port is enabled (it binds to the rxe device's address), so at
  // once: a module load is seconds under TCG, and modprobe copes with a shared dependency
  // (ib_core) loading in parallel, as it does for udev at every boot.
  await Promise.all([ensureRxe(t), ensureRamdisks(t, shape.ramdisks ?? 1, ramdiskMiB), ensureModule(t, 'nvmet-rdma')]);
  await applyTargetIn(t, shape.config ?? labTargetConfig(lab));
}

/**
 * The target's configfs made to match `input` (applyTarget's rules), checked here first
 * (a UsageError naming the field) and applied in the VM in one agent request: one round
 * trip per configfs file was most of the target phase under TCG (src/guest/ops-nvmet.ts).
 */
export async function applyTargetIn(agent: Pick<LabAgent, 'call'>, input: TargetConfigInput): Promise<ApplyResult> {
  return agent.call<ApplyResult>('nvmet.apply', { config: parseTargetConfig(input) }, NVMET_APPLY_MS);
}

/** The lab's nvmet configuration: the ramdisk as namespace 1 behind RDMA port 1. */
export function labTargetConfig(lab: Pick<NvmeLab, 'targetAddr'>): TargetConfigInput {
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
export async function prepareHost(lab: NvmeLab): Promise<void> {
  const h = lab.host.agent;
  // nvme-rdma needs no RDMA device to load: loaded while the rxe device is made.
  await Promise.all([lab.host !== lab.target ? ensureRxe(h) : undefined, ensureModule(h, 'nvme-rdma')]);
}

/** The lab's /dev/nvme-fabrics options for a connect with these settings. */
export function labFabricsOptions(lab: Pick<NvmeLab, 'targetAddr'>, opts: ConnectOptions): FabricsOptions {
  return { transport: 'rdma', traddr: lab.targetAddr, trsvcid: TRSVCID, nqn: LAB_NQN, hostnqn: LAB_HOSTNQN, hostid: LAB_HOSTID, ...opts };
}

/** The host's write to /dev/nvme-fabrics, through the agent. */
export function hostFabricsPort(lab: NvmeLab, deadlineMs = FABRICS_CONNECT_WRITE_MS): FabricsPort {
  return { connect: (options) => lab.host.agent.call<string>('fabrics.connect', { options }, deadlineMs) };
}

/** Host: rxe, nvme-rdma, connect, wait for live, and find the namespace's block device. */
export async function connectHost(lab: NvmeLab, opts: ConnectOptions): Promise<HostController> {
  await prepareHost(lab);
  return connectPreparedHost(lab, opts);
}

/**
 * connectHost once prepareHost has run (the run's target phase does it while the target
 * is built): its checks again are round trips to a host VM that may still be busy with
 * its imports, 0.07-0.4 s measured.
 */
export async function connectPreparedHost(lab: NvmeLab, opts: ConnectOptions): Promise<HostController> {
  const c = await connectAndWaitLive(hostFabricsPort(lab), lab.host.agent.fs(), labFabricsOptions(lab, opts), { deadlineMs: CONNECT_LIVE_MS });
  return findNamespace(lab, c.device, c.options);
}

/** A live controller's namespace block device (and multipath path device). */
export async function findNamespace(lab: NvmeLab, device: string, options: string): Promise<HostController> {
  const h = lab.host.agent;
  // The namespace appears when the controller's scan work has run, after it is live: on
  // a slow (debug) kernel that is seconds later, so wait for it, not only for the controller.
  const path = await pollUntil(
    async () => (await h.fs().readdir(`/sys/class/nvme/${device}`).catch(() => [] as string[])).find((e) => /^nvme\d+c?\d*n\d+$/.test(e)),
    { deadlineMs: NAMESPACE_SYSFS_MS, intervalMs: NAMESPACE_SYSFS_POLL_MS, what: `a namespace of controller ${device} in sysfs (the controller's scan work)` },
  );
  const ns = path.replace(/c\d+n/, 'n');
  // devtmpfs makes the node when the disk is added; a loader started before that would
  // create a plain file in its place. Wait until it is a block device: a stat in the
  // agent's own loop (a `test -b` was a process start each, half a second under TCG).
  await h.waitFor(`/dev/${ns}`, 'block', undefined, NAMESPACE_NODE_MS, GUEST_STATE_POLL_MS).catch((e: unknown) => {
    if ((e as { code?: string }).code !== 'ETIMEDOUT') throw e;
    throw new DeadlineError(`/dev/${ns} to appear as a block device (${errorMessage(e)})`, NAMESPACE_NODE_MS);
  });
  return { device, namespace: `/dev/${ns}`, options };
}
