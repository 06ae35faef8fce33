// The lab's shapes: loopback (one VM is both NVMe host and target, on one rxe device)
// and pair (a target VM and a host VM on a point-to-point L2 link of unix datagram
// sockets: no host network, no ports). VMs of a pair boot in parallel.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { Machine } from './machine.js';
import type { NicSpec } from './qemu-args.js';

export type TopologyKind = 'loopback' | 'pair';
export const TOPOLOGIES: readonly TopologyKind[] = ['loopback', 'pair'];

/** Addresses inside the lab; they exist only on the VMs' private link. */
export const LAB_NET = { prefix: 24, target: '10.99.0.1', host: '10.99.0.2' } as const;

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
  shutdown(): Promise<void>;
  kill(): Promise<void>;
}

export interface LabOptions {
  kind: TopologyKind;
  kernel: KernelSpec;
  project: string;
  logDir: string;
  memMb?: number;
  bootDeadlineMs?: number;
  log?: Logger;
}

const mac = (n: number): string => `52:54:00:72:62:${n.toString(16).padStart(2, '0')}`;

export async function bootLab(o: LabOptions): Promise<Lab> {
  const runDir = await mkdtemp(join(tmpdir(), 'reset-bench-'));
  const common = { kernel: o.kernel, project: o.project, logDir: o.logDir, memMb: o.memMb, bootDeadlineMs: o.bootDeadlineMs, log: o.log };
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
      });
      machines = [vm];
      return lab(o.kind, runDir, o.logDir, vm, vm, machines, LAB_NET.target, LAB_NET.target, cleanup);
    }
    const tSock = join(runDir, 'link-target.sock');
    const hSock = join(runDir, 'link-host.sock');
    const results = await Promise.allSettled([
      Machine.boot({
        ...common,
        name: 'target',
        role: 'target',
        runDir: join(runDir, 'target'),
        ip: `${LAB_NET.target}/${LAB_NET.prefix}`,
        nics: [{ id: 'nic0', mac: mac(1), link: { kind: 'dgram', local: tSock, remote: hSock }, rootPort: 'rp1' }],
      }),
      Machine.boot({
        ...common,
        name: 'host',
        role: 'host',
        runDir: join(runDir, 'host'),
        ip: `${LAB_NET.host}/${LAB_NET.prefix}`,
        nics: [{ id: 'nic0', mac: mac(2), link: { kind: 'dgram', local: hSock, remote: tSock }, rootPort: 'rp1' }],
      }),
    ]);
    machines = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return lab(o.kind, runDir, o.logDir, machines[1]!, machines[0]!, machines, LAB_NET.target, LAB_NET.host, cleanup);
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
  targetAddr: string,
  hostAddr: string,
  cleanup: () => Promise<void>,
): Lab {
  return {
    kind,
    runDir,
    logDir,
    host,
    target,
    machines,
    targetAddr,
    hostAddr,
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
