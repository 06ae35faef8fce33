// Kernel uevents (NETLINK_KOBJECT_UEVENT, group 1): "ACTION@DEVPATH\0KEY=VAL\0...".
import { NETLINK_KOBJECT_UEVENT } from './constants.js';
import { NetlinkMonitor, type MonitorOptions } from './socket.js';

export interface Uevent {
  action: string;
  devpath: string;
  subsystem?: string;
  devtype?: string;
  devname?: string;
  driver?: string;
  seqnum?: number;
  /** Every KEY=VALUE pair. */
  env: Record<string, string>;
}

export const UEVENT_SUBSYSTEMS = ['infiniband', 'net', 'nvme', 'nvme-fabrics', 'block', 'pci'] as const;

/** Parses a kernel uevent; undefined for udevd's "libudev" re-broadcasts or garbage. */
export function parseUevent(buf: Buffer): Uevent | undefined {
  if (buf.length >= 8 && buf.subarray(0, 8).toString('latin1') === 'libudev\0') return undefined;
  const parts = buf.toString('utf8').split('\0');
  const head = parts[0] ?? '';
  const at = head.indexOf('@');
  if (at <= 0) return undefined;
  const env: Record<string, string> = {};
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq > 0) env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const ev: Uevent = { action: env.ACTION ?? head.slice(0, at), devpath: env.DEVPATH ?? head.slice(at + 1), env };
  if (env.SUBSYSTEM !== undefined) ev.subsystem = env.SUBSYSTEM;
  if (env.DEVTYPE !== undefined) ev.devtype = env.DEVTYPE;
  if (env.DEVNAME !== undefined) ev.devname = env.DEVNAME;
  if (env.DRIVER !== undefined) ev.driver = env.DRIVER;
  if (env.SEQNUM !== undefined && /^\d+$/.test(env.SEQNUM)) ev.seqnum = Number(env.SEQNUM);
  return ev;
}

export function uventMatches(ev: Uevent, subsystems: readonly string[] | undefined): boolean {
  return !subsystems || (ev.subsystem !== undefined && subsystems.includes(ev.subsystem));
}

export interface UeventMonitorOptions extends Omit<MonitorOptions, 'groups'> {
  /** Default UEVENT_SUBSYSTEMS; pass null for every subsystem. */
  subsystems?: readonly string[] | null;
}

/** Listens for kernel uevents; `onEvent` gets each matching one with its receive time (ms). */
export class UeventMonitor {
  private constructor(
    private readonly mon: NetlinkMonitor,
    private readonly subsystems: readonly string[] | undefined,
  ) {}

  static open(opts: UeventMonitorOptions = {}): UeventMonitor {
    const subs = opts.subsystems === null ? undefined : (opts.subsystems ?? UEVENT_SUBSYSTEMS);
    return new UeventMonitor(NetlinkMonitor.open(NETLINK_KOBJECT_UEVENT, { ...opts, groups: [1] }), subs);
  }

  start(onEvent: (ev: Uevent, receivedAt: number) => void): void {
    this.mon.start((buf, t) => {
      const ev = parseUevent(buf);
      if (ev && uventMatches(ev, this.subsystems)) onEvent(ev, t);
    });
  }

  stop(): Promise<void> {
    return this.mon.stop();
  }
}
