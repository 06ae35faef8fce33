// Builds the QEMU command line for one lab VM. Pure: every socket path comes in.
import { existsSync, readFileSync, accessSync, constants } from 'node:fs';

export type Accel = 'kvm' | 'tcg';

export interface NicSpec {
  id: string;
  mac: string;
  /** dgram: an L2 link to a peer VM over unix datagram sockets; hub: a NIC with no peer. */
  link: { kind: 'dgram'; local: string; remote: string } | { kind: 'hub'; hubId: number };
  /** The hot-pluggable PCIe root port the NIC sits on. */
  rootPort: string;
}

export interface QemuSpec {
  name: string;
  kernel: string;
  initrd: string;
  append: string;
  memMb: number;
  accel: Accel;
  /** Directory shared read-only as the guest's root (the host's /). */
  shareRoot: string;
  qmpSocket: string;
  agentSocket: string;
  /** The virtconsole (guest /dev/hvc0) that `vm shell` attaches to. */
  shellSocket: string;
  nics: NicSpec[];
  /** The agent's runtime disk (guest-runtime.ts), read-only: the guest's /dev/vda. */
  runtimeImage?: string;
}

export const SHELL_SOCKET = 'shell.sock';
import { AGENT_PORT as AGENT_PORT_NAME } from '../guest/port-name.js';

export function detectAccel(env: NodeJS.ProcessEnv = process.env): Accel {
  const forced = env.RESET_BENCH_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    const cpu = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    return /\b(vmx|svm)\b/.test(cpu) ? 'kvm' : 'tcg';
  } catch {
    return 'tcg';
  }
}

/**
 * The TCG guest's CPU: QEMU's max model without cmpxchg16b. QEMU 7.2's TCG cmpxchg16b
 * corrupts the guest's RFLAGS when an interrupt lands on a failed compare (the RFLAGS
 * image had VM and reserved bits set); SLUB's lockless fastpath retries exactly so under
 * load, and 6.12 guests double-faulted in __alloc_skb / kmem_cache_alloc (first blamed
 * on rdma_rxe). kernel-patches/6.12/rxe/tcg-repro reproduces it with no rxe at all: 6
 * double faults in 7 runs with -cpu max, none with -cx16. Without cx16, SLUB takes its
 * slab-lock path, which every x86-64 kernel supports.
 */
export const TCG_CPU = 'max,-cx16';

export function qemuArgs(s: QemuSpec): string[] {
  const args = [
    '-name', s.name,
    '-machine', `q35,accel=${s.accel}`,
    '-cpu', s.accel === 'kvm' ? 'host' : TCG_CPU,
    '-smp', '1',
    '-m', String(s.memMb),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', s.kernel,
    '-initrd', s.initrd,
    '-append', s.append,
    '-chardev', 'stdio,id=con0,signal=off',
    '-serial', 'chardev:con0',
    '-qmp', `unix:${s.qmpSocket},server=on,wait=off`,
    '-fsdev', `local,id=root9p,path=${s.shareRoot},security_model=none,readonly=on,multidevs=remap`,
    '-device', 'virtio-9p-pci,fsdev=root9p,mount_tag=hostroot',
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=agent0,path=${s.agentSocket},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,chardev=agent0,name=${AGENT_PORT_NAME}`,
    '-chardev', `socket,id=shell0,path=${s.shellSocket},server=on,wait=off`,
    '-device', 'virtconsole,bus=vser0.0,chardev=shell0,name=rb.shell',
    // A new generation ID on every QEMU start: a guest restored from a saved state
    // (snapshot-boot.ts) reseeds its RNG from it instead of repeating the snapshot's.
    '-device', 'vmgenid,guid=auto',
  ];
  if (s.runtimeImage) args.push('-drive', `if=none,id=rbrt,file=${s.runtimeImage},format=raw,readonly=on`, '-device', 'virtio-blk-pci,drive=rbrt');
  s.nics.forEach((nic, i) => {
    args.push('-device', `pcie-root-port,id=${nic.rootPort},bus=pcie.0,chassis=${i + 1},slot=${i + 1}`);
    if (nic.link.kind === 'dgram') {
      args.push(
        '-netdev',
        `dgram,id=${nic.id}-be,local.type=unix,local.path=${nic.link.local},remote.type=unix,remote.path=${nic.link.remote}`,
      );
    } else {
      args.push('-netdev', `hubport,id=${nic.id}-be,hubid=${nic.link.hubId}`);
    }
    args.push('-device', nicDevice(nic));
  });
  return args;
}

/**
 * The command line with what differs from run to run taken out (the sockets, the
 * initrd's path: its bytes are keyed on their own): what a saved VM state depends on.
 */
export function snapshotKeyArgs(s: QemuSpec): string[] {
  const nics = s.nics.map((n): NicSpec => (n.link.kind === 'dgram' ? { ...n, link: { kind: 'dgram', local: '', remote: '' } } : n));
  return qemuArgs({ ...s, initrd: '', qmpSocket: '', agentSocket: '', shellSocket: '', nics });
}

/** The -device value of a NIC; QMP device_add takes the same properties for a re-plug. */
export function nicDevice(nic: NicSpec): string {
  return `virtio-net-pci,id=${nic.id},netdev=${nic.id}-be,mac=${nic.mac},bus=${nic.rootPort}`;
}

export interface GuestParams {
  modulesDir: string;
  project: string;
  hostname: string;
  role: string;
  ip?: string;
  /** eth1's address, eth2's...: rb.ip1=, rb.ip2= (vm/init configures them). */
  moreIps?: string[];
  /** Every NIC's MTU (rb.mtu=, vm/init sets it before the link comes up). */
  mtu?: number;
  /** rxe devices made at boot, before the agent starts (rb.rxe=rxe0:eth0,...; vm/init). */
  rxe?: readonly BootRxe[];
  /** TCG guests get a clocksource that needs no calibration (see TCG_CLOCK). */
  accel?: Accel;
  /** Stage 1 waits at the snapshot point for a go line on the console (rb.snap=1; snapshot-boot.ts). */
  snapshotPoint?: boolean;
  extra?: string[];
}

/**
 * Under TCG the guest's TSC calibration against the PIT is timing-dependent and fails
 * on a loaded host; one boot in about twenty took 138 MHz for the real 2096 MHz, so its
 * CLOCK_MONOTONIC, every kernel timeout and every outage the loader measured ran 15x
 * fast. The HPET needs no calibration (QEMU clocks it from host time), so TCG guests
 * keep time on it and never switch to the TSC.
 */
export const TCG_CLOCK = ['clocksource=hpet', 'tsc=unstable'];

/** An rxe device the guest makes at boot on a netdev. */
export interface BootRxe {
  name: string;
  netdev: string;
}

const BOOT_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** rb.rxe='s value: name:netdev pairs, comma-separated; each name a plain interface-style name. */
export function rxeWord(rxe: readonly BootRxe[]): string {
  for (const n of rxe.flatMap((r) => [r.name, r.netdev])) {
    if (!BOOT_NAME.test(n)) throw new Error(`rxe device or netdev name ${JSON.stringify(n)} cannot go on the kernel command line (letters, digits, _ . -, at most 15)`);
  }
  return `rb.rxe=${rxe.map((r) => `${r.name}:${r.netdev}`).join(',')}`;
}

export function kernelAppend(p: GuestParams): string {
  const words = [
    'console=ttyS0',
    'loglevel=5',
    'panic=-1',
    'nokaslr',
    // Under TCG on a loaded host the kernel's IO-APIC timer check can see too few ticks
    // and panic ("IO-APIC + timer doesn't work!"): a boot failure that says nothing about
    // the kernel under test. The check exists for broken chipsets, which QEMU's is not.
    'no_timer_check',
    // The crypto API's self-tests test the crypto API, not the lab: at boot they were the
    // longest initcall under TCG (crypto_algapi_init, 329 ms of about 2 s to /init, with
    // initcall_debug), and each algorithm a module registers later (crc32 for rxe's ICRC)
    // is tested again at its insmod.
    'cryptomgr.notests',
    'rdinit=/init',
    `rb.modules=${p.modulesDir}`,
    `rb.project=${p.project}`,
    `rb.hostname=${p.hostname}`,
    `rb.role=${p.role}`,
  ];
  if (p.ip) words.push(`rb.ip=${p.ip}`);
  (p.moreIps ?? []).forEach((ip, i) => words.push(`rb.ip${i + 1}=${ip}`));
  if (p.mtu !== undefined) words.push(`rb.mtu=${p.mtu}`);
  if (p.rxe?.length) words.push(rxeWord(p.rxe));
  if (p.snapshotPoint) words.push('rb.snap=1');
  if (p.accel === 'tcg') words.push(...TCG_CLOCK);
  for (const w of [p.modulesDir, p.project]) {
    if (/[\s"]/.test(w)) throw new Error(`path ${JSON.stringify(w)} has white space or quotes: the kernel command line cannot carry it`);
  }
  return [...words, ...(p.extra ?? [])].join(' ');
}
