// Whether the machine kept a VM off the CPU. Under TCG a guest runs only while its
// QEMU's threads run; when the lab machine starves QEMU (other processes, or the cloud
// host's steal), the guest's clock goes on and its timers fire late: a keep-alive or an
// I/O times out and the loader records a stall that is the machine's, not the kernel's.
// Seen once in CI: a multipath run whose head stalled 13.4 s with a path reconnecting
// at the end; holding either VM's QEMU for 12 s gives the same FAIL. (A QEMU stopped by
// a signal waits on no run queue, so that way of holding it is not seen here; a machine
// too busy to run it, and a paused machine, are.)
//
// Every STARVATION_SAMPLE_MS the harness reads how long each QEMU thread has waited on a
// run queue (/proc/PID/task/TID/schedstat, its second field, in ns) and the machine's
// steal time (/proc/stat), and counts a sample that comes very late as waited too.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { STARVATION_SAMPLE_MS } from '../util/timeouts.js';

/**
 * A span of samples is starved when the VM waited at least this share of its time: well
 * above what two VMs and the harness on two cores wait (a third each at most).
 */
export const STARVED_SHARE = 0.8;
/**
 * A sample this late means the harness itself did not run (the whole machine paused,
 * which a guest of a cloud host without steal accounting sees only so): the lateness
 * counts as waited for every VM.
 */
export const LATE_SAMPLE_MS = 1000;
/** A starved stretch this long, or longer, goes on the run's timeline. */
export const STARVED_EVENT_MS = 500;
/** A starved stretch this long, or longer, makes a run's FAIL an ERROR (and the run is run again). */
export const STARVED_RUN_MS = 2000;

/** One sample: when (run ms), how long since the last one, and how long each VM waited meanwhile (ms). */
export interface StarvationSample {
  atMs: number;
  elapsedMs: number;
  waitedMs: Record<string, number>;
}

/** The time a VM could not run in one span of samples, on the run's clock. */
export interface StarvedStretch {
  vm: string;
  startMs: number;
  ms: number;
}

/** The most waited in one span of a VM's samples where it waited STARVED_SHARE of the time or more. */
function mostWaited(vm: string, samples: readonly StarvationSample[]): StarvedStretch | undefined {
  const first = samples[0];
  if (first === undefined) return undefined;
  const at = [first.atMs - first.elapsedMs, ...samples.map((s) => s.atMs)];
  const cum = [0];
  for (const s of samples) cum.push(cum[cum.length - 1]! + (s.waitedMs[vm] ?? 0));
  let best: StarvedStretch | undefined;
  for (let k = 1; k < at.length; k++) {
    for (let j = 0; j < k; j++) {
      const w = cum[k]! - cum[j]!;
      if (w > 0 && w >= STARVED_SHARE * (at[k]! - at[j]!) && w > (best?.ms ?? 0)) best = { vm, startMs: Math.max(at[0]!, at[k]! - w), ms: w };
    }
  }
  return best;
}

/**
 * Each VM's longest starved stretch, in the order they start (pure). A thread's wait is
 * accounted when it gets the CPU again, so a VM kept off for 13 s shows it all in the
 * one sample after: a stretch is the most waited in any span of samples where the VM
 * waited at least STARVED_SHARE of the span's time, and it ends at that span's end (it
 * starts no earlier than the first sample: a wait from before is counted, not placed).
 */
export function starvedStretches(samples: readonly StarvationSample[]): StarvedStretch[] {
  const vms = [...new Set(samples.flatMap((s) => Object.keys(s.waitedMs)))];
  return vms
    .map((vm) => mostWaited(vm, samples))
    .filter((x): x is StarvedStretch => x !== undefined)
    .sort((a, b) => a.startMs - b.startMs);
}

/** The longest stretch, if any. */
export function longestStretch(stretches: readonly StarvedStretch[]): StarvedStretch | undefined {
  return stretches.reduce<StarvedStretch | undefined>((best, s) => (best === undefined || s.ms > best.ms ? s : best), undefined);
}

/** The run-queue wait of a schedstat line ("<run ns> <wait ns> <slices>"), in ns; undefined if unreadable. */
export function parseSchedstatWait(text: string): number | undefined {
  const f = text.trim().split(/\s+/);
  const wait = f.length >= 2 ? Number(f[1]) : NaN;
  return Number.isFinite(wait) && wait >= 0 ? wait : undefined;
}

/** The steal ticks of /proc/stat's "cpu " line (its 8th number), undefined if unreadable. */
export function parseStealTicks(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  const steal = line ? Number(line.trim().split(/\s+/)[8]) : NaN;
  return Number.isFinite(steal) ? steal : undefined;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Each thread's run-queue wait (ns) of process `pid`; empty once the process is gone. */
function threadWaits(pid: number): Map<string, number> {
  const waits = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return waits;
  }
  for (const tid of tids) {
    const w = parseSchedstatWait(readOr(`/proc/${pid}/task/${tid}/schedstat`));
    if (w !== undefined) waits.set(tid, w);
  }
  return waits;
}

/** The largest growth of any thread's wait between two readings, in ms (a new thread counts from its first reading). */
function largestGrowthMs(before: Map<string, number>, after: Map<string, number>): number {
  let most = 0;
  for (const [tid, w] of after) {
    const b = before.get(tid);
    if (b !== undefined) most = Math.max(most, (w - b) / 1e6);
  }
  return most;
}

export interface StarvationWatch {
  /** Stops sampling (idempotent) and returns every sample taken. */
  stop(): StarvationSample[];
}

/** Samples the VMs' QEMU processes until stopped; a VM without a pid (a fake lab's) is not watched. */
export function watchStarvation(vms: readonly { name: string; pid?: number }[], nowMs: () => number): StarvationWatch {
  const watched = vms.filter((v): v is { name: string; pid: number } => v.pid !== undefined);
  const samples: StarvationSample[] = [];
  const msPerTick = 1000 / 100; // USER_HZ
  const ncpu = Math.max(1, cpus().length);
  const read = () => ({ atMs: nowMs(), steal: parseStealTicks(readOr('/proc/stat')), waits: new Map(watched.map((v) => [v.name, threadWaits(v.pid)])) });
  const none = new Map<string, number>();
  let last = read();
  const sample = (): void => {
    const now = read();
    const stealMs = now.steal !== undefined && last.steal !== undefined ? ((now.steal - last.steal) * msPerTick) / ncpu : 0;
    const waitedMs: Record<string, number> = {};
    const elapsedMs = now.atMs - last.atMs;
    const lateMs = elapsedMs >= LATE_SAMPLE_MS ? elapsedMs - STARVATION_SAMPLE_MS : 0;
    for (const v of watched) {
      const threadMs = largestGrowthMs(last.waits.get(v.name) ?? none, now.waits.get(v.name) ?? none);
      waitedMs[v.name] = Math.max(stealMs, lateMs, threadMs);
    }
    samples.push({ atMs: now.atMs, elapsedMs, waitedMs });
    last = now;
  };
  const timer = watched.length > 0 ? setInterval(sample, STARVATION_SAMPLE_MS) : undefined;
  timer?.unref();
  return {
    stop() {
      if (timer !== undefined) clearInterval(timer);
      return samples;
    },
  };
}
