// The boundary between a scenario run and the machines it runs on: what the phases use
// of a lab (two VMs' agents, consoles and kernel logs, the device reset the scenario
// names) and how one is booted. real-lab.ts adapts QEMU VMs to it; the unit tests use a
// fake lab (test/helpers/fake-lab.ts), so every phase runs without a VM.
import type { KmsgRecord } from '../guest/protocol.js';
import type { BootFrom } from '../vm/machine.js';
import type { KernelSpec } from '../kernel/resolve.js';
import type { LabAgent, NvmeLab } from '../orchestrate/nvme-lab.js';
import type { Logger } from '../util/logger.js';
import type { Splat } from '../vm/splats.js';
import type { LabLink } from '../vm/topology.js';
import type { ScenarioSpec } from './spec.js';

/** One VM of the lab, as the runner sees it. */
export interface LabVm {
  readonly name: string;
  readonly agent: LabAgent;
  /** The guest's kernel log so far. */
  readonly kmsg: readonly KmsgRecord[];
  /** Kernel reports seen on the console so far. */
  readonly splats: readonly Splat[];
  readonly console: { readonly logPath: string; tailText(lines?: number): string };
  /** ms from starting the VM to its agent being ready. */
  readonly bootMs: number;
  /** Booted cold (and its state saved, the first time) or started from a saved state. */
  readonly bootFrom: BootFrom;
  /** Its QEMU's process id on this machine (absent for a fake lab's VM). */
  readonly pid?: number;
}

/**
 * The device reset a scenario asks for, bound to the VMs whose device it resets (both
 * at once when there are several). The topology decides which devices a spec names.
 */
export interface ResetPlan {
  /** What the reset does, for the progress lines. */
  describe: string;
  /** The VMs whose device goes away. */
  vms: string[];
  /** Those of them where the trigger or restore starts a process (their agents must be warm first). */
  toolVms: string[];
  trigger(): Promise<void>;
  restore(): Promise<void>;
}

export interface RunLab extends NvmeLab {
  kind: string;
  host: LabVm;
  target: LabVm;
  /** Every VM once (on loopback host and target are the same one). */
  machines: LabVm[];
  hostAddr: string;
  /** Every link between the VMs (pair2 has two; link 0 carries targetAddr and hostAddr). */
  links: LabLink[];
  resetPlan(spec: Pick<ScenarioSpec, 'side' | 'reset' | 'paths' | 'restore' | 'hold_tx'>): ResetPlan;
  /** Clean power-off. */
  shutdown(): Promise<void>;
  /** Kill, after a harness error. */
  kill(): Promise<void>;
}

export interface BootRequest {
  kind: ScenarioSpec['topology'];
  kernel: KernelSpec;
  project: string;
  /** Where the consoles go. */
  logDir: string;
  log: Logger;
  /** The links whose rxe devices the VMs make at boot (the scenario's RDMA links). */
  rdmaLinks?: readonly number[];
  /** Where saved VM states are kept; absent: every VM boots cold. */
  snapshots?: string;
  /** Where the agent's runtime disk images are kept (src/vm/guest-runtime.ts). */
  runtimeDir?: string;
}

/** How a run gets its kernel and its lab. */
export interface LabDriver {
  resolveKernel(choice: string, opts: { cache?: string; progress?: (m: string) => void }): Promise<KernelSpec>;
  boot(req: BootRequest): Promise<RunLab>;
}
