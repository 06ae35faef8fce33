// The guest side of the event timeline: samples controller states, RDMA devices and
// net links every few ms and records each change with CLOCK_MONOTONIC time, together
// with uevents. The host fetches the record at the end and aligns the clocks.
import { readFileSync, readdirSync } from 'node:fs';
import { UeventMonitor } from '../orchestrate/netlink/index.js';
import { int, optBool, optInt } from './args.js';
import type { Op } from './ops.js';
import { TIMELINE_SAMPLE_MS } from '../util/timeouts.js';

export interface TimelineSample {
  /** Guest CLOCK_MONOTONIC, ns, as a decimal string. */
  t: string;
  kind: 'state' | 'uevent';
  /** e.g. nvme/nvme0, infiniband/rxe0, net/eth0 */
  key: string;
  value: string;
}

interface Sampler {
  timer: NodeJS.Timeout;
  samples: TimelineSample[];
  last: Map<string, string>;
  monitor?: UeventMonitor;
}

const samplers = new Map<number, Sampler>();
let nextId = 1;

function readTrim(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '?';
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** One look at everything we follow: key -> value; a key that disappears reads 'absent'. */
export function snapshot(): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of list('/sys/class/nvme')) m.set(`nvme/${c}`, readTrim(`/sys/class/nvme/${c}/state`));
  // Presence only: reading an rxe port's state makes the kernel log "speed is unknown" each time.
  for (const d of list('/sys/class/infiniband')) m.set(`infiniband/${d}`, 'present');
  for (const n of list('/sys/class/net')) if (n !== 'lo') m.set(`net/${n}`, readTrim(`/sys/class/net/${n}/operstate`));
  for (const p of list('/sys/kernel/config/nvmet/ports')) {
    m.set(`nvmet-port/${p}`, list(`/sys/kernel/config/nvmet/ports/${p}/subsystems`).join(',') || 'unlinked');
  }
  return m;
}

function tick(s: Sampler): void {
  const t = process.hrtime.bigint().toString();
  const now = snapshot();
  for (const [k, v] of now) {
    if (s.last.get(k) !== v) s.samples.push({ t, kind: 'state', key: k, value: v });
  }
  for (const k of s.last.keys()) if (!now.has(k)) s.samples.push({ t, kind: 'state', key: k, value: 'absent' });
  s.last = now;
}

export const timelineOps: Record<string, Op> = {
  // async without an await: an Op returns a promise, and a bad argument must reject it.
  // eslint-disable-next-line @typescript-eslint/require-await
  start: async (raw) => {
    const a = { intervalMs: optInt(raw, 'intervalMs', 5, 1000) ?? TIMELINE_SAMPLE_MS, uevents: optBool(raw, 'uevents') ?? true };
    const s: Sampler = { samples: [], last: new Map(), timer: undefined as unknown as NodeJS.Timeout };
    tick(s);
    s.timer = setInterval(() => tick(s), a.intervalMs);
    if (a.uevents) {
      try {
        s.monitor = UeventMonitor.open();
        s.monitor.start((ev) => {
          s.samples.push({
            t: process.hrtime.bigint().toString(),
            kind: 'uevent',
            key: `${ev.subsystem ?? '?'}${ev.devname ? `/${ev.devname}` : ''}`,
            value: `${ev.action} ${ev.devpath}`,
          });
        });
      } catch (e) {
        s.samples.push({ t: process.hrtime.bigint().toString(), kind: 'uevent', key: 'error', value: String(e) });
      }
    }
    const id = nextId++;
    samplers.set(id, s);
    return { id, monoNs: process.hrtime.bigint().toString() };
  },
  stop: async (raw) => {
    const id = int(raw, 'id');
    const s = samplers.get(id);
    if (!s) throw Object.assign(new Error(`no timeline sampler ${id}`), { code: 'ENOENT' });
    clearInterval(s.timer);
    await s.monitor?.stop();
    tick(s);
    samplers.delete(id);
    return s.samples;
  },
};
