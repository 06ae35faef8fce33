// The lab's shapes: loopback (one VM is both NVMe host and target, on one rxe device),
// pair (a target VM and a host VM on a point-to-point L2 link of unix datagram sockets:
// no host network, no ports) and pair2 (the same two VMs on two such links, two NICs
// each on two subnets: two paths for native multipath). VMs of a pair boot in parallel.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { Machine } from './machine.js';
import type { BootRxe, NicSpec } from './qemu-args.js';

export type TopologyKind = 'loopback' | 'pair' | 'pair2';
export const TOPOLOGIES: readonly TopologyKind[] = ['loopback', 'pair', 'pair2'];

/**
 * Addresses inside the lab; they exist only on the VMs' private link. The MTU is a
 * jumbo frame's, as RoCE fabrics are usually run: rxe's path MTU follows the netdev's
 * (4096 from 9000; 1024 from 1500), and under TCG rxe's cost is per packet. The final
 * read-back of a host-rdma-link run (about 4500 blocks) took about 3.1 s at 1500, 2.2 s at 9000.
 */
export const LAB_NET = { prefix: 24, target: '10.99.0.1', host: '10.99.0.2', mtu: 9000 } as const;

/** The links of each topology: link i is eth<i> in both VMs, on 10.99.<i>.0/24. */
export const LINK_COUNT: Record<TopologyKind, number> = { loopback: 1, pair: 1, pair2: 2 };

/** One L2 link between the VMs: the netdev on it in each VM and their addresses. */
export interface LabLink {
  index: number;
  netdev: string;
  /** QEMU id of the NIC on this link (the same in both VMs). */
  nicId: string;
  targetAddr: string;
  hostAddr: string;
}

/** Link i's names and addresses (pure). On loopback the one VM has the target's address. */
export function labLink(kind: TopologyKind, index: number): LabLink {
  const net = `10.99.${index}`;
  const targetAddr = `${net}.1`;
  return { index, netdev: `eth${index}`, nicId: `nic${index}`, targetAddr, hostAddr: kind === 'loopback' ? targetAddr : `${net}.2` };
}

export interface Lab {
  kind: TopologyKind;
  runDir: string;
  logDir: string;
  /** The VM that runs the NVMe host (and the loader). */
  host: Machine;
  /** The VM that runs the NVMe target: the same VM as host on loopback. */
  target: Machine;
  machines: Machine[];
  targetAddr: string;
  hostAddr: string;
  /** Every link, in order; link 0's addresses are targetAddr and hostAddr. */
  links: LabLink[];
  shutdown(): Promise<void>;
  kill(): Promise<void>;
}

export interface LabOptions {
  kind: TopologyKind;
  /**
   * The links whose rxe device the guests make at boot (rxe<i> on eth<i>), before their
   * agents start, as an RDMA NIC is there at boot: a shell's `rdma link add` there costs
   * a fraction of the agent's first netlink request after ready. Absent: none.
   */
  rdmaLinks?: readonly number[];
  kernel: KernelSpec;
  project: string;
  logDir: string;
  memMb?: number;
  bootDeadlineMs?: number;
  log?: Logger;
  /** Where saved VM states are kept (snapshot-store.ts snapshotsDir); absent: cold boots. */
  snapshots?: string;
  /** Where the agent's runtime disk images are kept (guest-runtime.ts guestRuntimeDir). */
  runtimeDir?: string;
}

/** The rxe devices of these links that exist in the topology (rxe<i> on eth<i>), as each VM makes them at boot. */
export function bootRxe(kind: TopologyKind, links: readonly number[]): BootRxe[] {
  const have = LINK_COUNT[kind];
  return [...new Set(links)].filter((i) => i >= 0 && i < have).sort((a, b) => a - b).map((i) => ({ name: `rxe${i}`, netdev: `eth${i}` }));
}

const mac = (n: number): string => `52:54:00:72:62:${n.toString(16).padStart(2, '0')}`;

export async function bootLab(o: LabOptions): Promise<Lab> {
  const runDir = await mkdtemp(join(tmpdir(), 'reset-bench-'));
  const common = { kernel: o.kernel, project: o.project, logDir: o.logDir, memMb: o.memMb, bootDeadlineMs: o.bootDeadlineMs, log: o.log, mtu: LAB_NET.mtu, snapshots: o.snapshots, runtimeDir: o.runtimeDir };
  const rxe = bootRxe(o.kind, o.rdmaLinks ?? []);
  let machines: Machine[] = [];
  const cleanup = async (): Promise<void> => {
    await rm(runDir, { recursive: true, force: true });
  };
  try {
    if (o.kind === 'loopback') {
      const nic: NicSpec = { id: 'nic0', mac: mac(1), link: { kind: 'hub', hubId: 0 }, rootPort: 'rp1' };
      const vm = await Machine.boot({
        ...common,
        name: 'lab',
        role: 'both',
        runDir: join(runDir, 'lab'),
        ip: `${LAB_NET.target}/${LAB_NET.prefix}`,
        nics: [nic],
        rxe,
      });
      machines = [vm];
      return lab(o.kind, runDir, o.logDir, vm, vm, machines, [labLink(o.kind, 0)], cleanup);
    }
    const links = Array.from({ length: LINK_COUNT[o.kind] }, (_, i) => labLink(o.kind, i));
    const sock = (vm: string, l: LabLink) => join(runDir, `link${l.index === 0 ? '' : l.index}-${vm}.sock`);
    const nics = (me: string, peer: string, macBase: number): NicSpec[] =>
      links.map((l) => ({
        id: l.nicId,
        mac: mac(macBase + 16 * l.index),
        link: { kind: 'dgram', local: sock(me, l), remote: sock(peer, l) },
        rootPort: `rp${l.index + 1}`,
      }));
    const extraIps = (side: 'targetAddr' | 'hostAddr') => links.slice(1).map((l) => `${l[side]}/${LAB_NET.prefix}`);
    const results = await Promise.allSettled([
      Machine.boot({
        ...common,
        name: 'target',
        role: 'target',
        runDir: join(runDir, 'target'),
        ip: `${LAB_NET.target}/${LAB_NET.prefix}`,
        moreIps: extraIps('targetAddr'),
        nics: nics('target', 'host', 1),
        rxe,
      }),
      Machine.boot({
        ...common,
        name: 'host',
        role: 'host',
        runDir: join(runDir, 'host'),
        ip: `${LAB_NET.host}/${LAB_NET.prefix}`,
        moreIps: extraIps('hostAddr'),
        nics: nics('host', 'target', 2),
        rxe,
      }),
    ]);
    machines = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return lab(o.kind, runDir, o.logDir, machines[1]!, machines[0]!, machines, links, cleanup);
  } catch (err) {
    await Promise.all(machines.map((m) => m.kill()));
    await cleanup();
    throw err;
  }
}

function lab(
  kind: TopologyKind,
  runDir: string,
  logDir: string,
  host: Machine,
  target: Machine,
  machines: Machine[],
  links: LabLink[],
  cleanup: () => Promise<void>,
): Lab {
  return {
    kind,
    runDir,
    logDir,
    host,
    target,
    machines,
    targetAddr: links[0]!.targetAddr,
    hostAddr: links[0]!.hostAddr,
    links,
    shutdown: async () => {
      await Promise.all(machines.map((m) => m.poweroff()));
      await cleanup();
    },
    kill: async () => {
      await Promise.all(machines.map((m) => m.kill()));
      await cleanup();
    },
  };
}
