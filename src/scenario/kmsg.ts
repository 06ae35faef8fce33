// The whole kernel log of each VM, saved with the guest's time and (when its clock was
// aligned) the run's time, so a reader can put kernel messages beside the timeline.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toRunMs, type ClockMap } from '../orchestrate/clock.js';
import type { LabVm } from './lab.js';
import type { LogLine } from './stuck-where.js';

export function kmsgPath(runDir: string, vm: string): string {
  return join(runDir, `${vm}.kmsg.log`);
}

/** A VM's kernel messages on the run's clock, for the verdict. */
export function kmsgRunLines(vm: Pick<LabVm, 'kmsg'>, map: ClockMap, t0: bigint): LogLine[] {
  return vm.kmsg.map((k) => ({ ms: toRunMs(map, BigInt(k.usec) * 1000n, t0), text: k.text }));
}

export async function saveKmsg(machines: readonly LabVm[], runDir: string, clocks: Map<string, ClockMap>, t0: bigint): Promise<void> {
  for (const m of machines) {
    const map = clocks.get(m.name);
    const lines = m.kmsg.map((k) => {
      const run = map ? ` run=${toRunMs(map, BigInt(k.usec) * 1000n, t0).toFixed(0)}ms` : '';
      return `[${(k.usec / 1e6).toFixed(6)}]${run} <${k.level}> ${k.text}`;
    });
    await writeFile(kmsgPath(runDir, m.name), `${lines.join('\n')}\n`);
  }
}
