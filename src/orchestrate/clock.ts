// One clock across the VMs. Each guest's CLOCK_MONOTONIC is mapped onto the harness's
// own monotonic clock by round trips over the agent channel (Cristian's method): the
// guest's reading is taken to be at the midpoint of the round trip, and the round trip
// with the smallest delay wins. The error bound is half that round trip.
import type { Machine } from '../vm/machine.js';
import { CLOCK_SAMPLE_MS } from '../util/timeouts.js';

export interface ClockMap {
  vm: string;
  /** guest ns minus harness ns at the same instant. */
  offsetNs: bigint;
  /** half the best round trip, ms */
  errorMs: number;
}

export interface ClockSample {
  sendNs: bigint;
  guestNs: bigint;
  recvNs: bigint;
}

/** Picks the sample with the shortest round trip. Pure, for tests. */
export function bestOffset(samples: ClockSample[]): { offsetNs: bigint; errorMs: number } {
  if (samples.length === 0) throw new Error('no clock samples');
  let best = samples[0]!;
  for (const s of samples) if (s.recvNs - s.sendNs < best.recvNs - best.sendNs) best = s;
  const mid = best.sendNs + (best.recvNs - best.sendNs) / 2n;
  return { offsetNs: best.guestNs - mid, errorMs: Number(best.recvNs - best.sendNs) / 2e6 };
}

export async function alignClock(vm: Pick<Machine, 'name'> & { agent: Pick<Machine['agent'], 'call'> }, rounds = 7): Promise<ClockMap> {
  const samples: ClockSample[] = [];
  for (let i = 0; i < rounds; i++) {
    const sendNs = process.hrtime.bigint();
    const r = await vm.agent.call<{ monoNs: string }>('clock', {}, CLOCK_SAMPLE_MS);
    const recvNs = process.hrtime.bigint();
    samples.push({ sendNs, guestNs: BigInt(r.monoNs), recvNs });
  }
  return { vm: vm.name, ...bestOffset(samples) };
}

/** Guest ns -> harness ms relative to t0 (harness ns). */
export function toRunMs(map: ClockMap, guestNs: bigint | number | string, t0Ns: bigint): number {
  const g = typeof guestNs === 'bigint' ? guestNs : BigInt(Math.round(Number(guestNs)));
  return Number(g - map.offsetNs - t0Ns) / 1e6;
}
