// One clock across the VMs. Each guest's CLOCK_MONOTONIC is mapped onto the harness's
// own monotonic clock by round trips over the agent channel (Cristian's method): the
// guest's reading is taken to be at the midpoint of the round trip, and the round trip
// with the smallest delay wins. The error bound is half that round trip. A second
// alignment at the end of a run checks the guest clock kept the harness's rate: under
// TCG a guest can miscalibrate its TSC (seen: 138 MHz taken for 2096 MHz, a clock 15x
// fast), and every deadline and outage measured in that guest is then wrong.
import type { Machine } from '../vm/machine.js';
import { HarnessError } from '../util/errors.js';
import { CLOCK_SAMPLE_MS } from '../util/timeouts.js';

export interface ClockMap {
  vm: string;
  /** guest ns minus harness ns at the same instant. */
  offsetNs: bigint;
  /** half the best round trip, ms */
  errorMs: number;
  /** harness ns when the alignment was taken (its best round trip's midpoint) */
  atNs: bigint;
}

export interface ClockSample {
  sendNs: bigint;
  guestNs: bigint;
  recvNs: bigint;
}

/** Picks the sample with the shortest round trip. Pure, for tests. */
export function bestOffset(samples: ClockSample[]): { offsetNs: bigint; errorMs: number; atNs: bigint } {
  if (samples.length === 0) throw new Error('no clock samples');
  let best = samples[0]!;
  for (const s of samples) if (s.recvNs - s.sendNs < best.recvNs - best.sendNs) best = s;
  const mid = best.sendNs + (best.recvNs - best.sendNs) / 2n;
  return { offsetNs: best.guestNs - mid, errorMs: Number(best.recvNs - best.sendNs) / 2e6, atNs: mid };
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

/** How far a guest clock's rate may stray from the harness's (as a fraction) before its timings are not trusted. */
export const CLOCK_RATE_TOLERANCE = 0.02;

/**
 * The guest clock's rate relative to the harness's between two alignments (1 is
 * right), and the uncertainty of that figure from the two round trips. Pure.
 */
export function clockRate(start: ClockMap, end: ClockMap): { rate: number; uncertainty: number } {
  const elapsedNs = Number(end.atNs - start.atNs);
  if (elapsedNs <= 0) throw new Error(`${start.vm}: the clock alignments are not in order`);
  const driftNs = Number(end.offsetNs - start.offsetNs);
  return { rate: 1 + driftNs / elapsedNs, uncertainty: ((start.errorMs + end.errorMs) * 1e6) / elapsedNs };
}

/** Throws when a guest clock ran measurably off the harness's rate over the run. */
export function checkClockRate(start: ClockMap, end: ClockMap): void {
  const { rate, uncertainty } = clockRate(start, end);
  if (Math.abs(rate - 1) <= CLOCK_RATE_TOLERANCE + uncertainty) return;
  const secs = Number(end.atNs - start.atNs) / 1e9;
  throw new HarnessError(
    `${start.vm}'s clock ran at ${rate.toFixed(3)}x the harness's over ${secs.toFixed(1)} s ` +
      `(allowed 1 +/- ${(CLOCK_RATE_TOLERANCE + uncertainty).toFixed(3)}): the guest's clocksource is miscalibrated ` +
      '(under TCG, a TSC calibrated wrong at boot), so every deadline and outage timed in that guest is wrong',
  );
}
