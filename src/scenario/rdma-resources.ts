// The RDMA core's resource counts (restrack: pd, cq, qp, cm_id, mr...) of every VM,
// taken before the reset and after the run, summed over the devices (a reset may
// bring a device back under another name). A recovered controller should hold what
// it held before; a difference is a queue that did not come back, or one too many. A
// growth is read again until the target has had time to end, by its keep-alive timer,
// an association the host gave up while the link was down (settleGrowth).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sleep } from '../util/deadline.js';
import { NETLINK_ANSWER_MS, RDMA_SETTLE_POLL_MS, RDMA_TEARDOWN_MS } from '../util/timeouts.js';
import type { RunLab } from './lab.js';

/** Per VM: resource name -> count, summed over its RDMA devices. */
export type ResourceTotals = Record<string, Record<string, number>>;

const GuestResources = z.array(z.object({ devName: z.string(), counts: z.record(z.string(), z.number()) }));

/** Sums per-device counts (pure). */
export function sumResources(devices: z.infer<typeof GuestResources>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of devices) for (const [k, v] of Object.entries(d.counts)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Every VM's totals now; a VM whose answer does not parse is left out, named in `missing`. */
export async function snapshotResources(lab: Pick<RunLab, 'machines'>): Promise<{ totals: ResourceTotals; missing: string[] }> {
  const totals: ResourceTotals = {};
  const missing: string[] = [];
  // the VMs asked at once, their answers taken in the lab's order
  const answers = await Promise.all(lab.machines.map((m) => m.agent.call('rdma.resources', {}, NETLINK_ANSWER_MS).catch(() => undefined)));
  lab.machines.forEach((m, i) => {
    const r = GuestResources.safeParse(answers[i]);
    if (r.success) totals[m.name] = sumResources(r.data);
    else missing.push(m.name);
  });
  return { totals, missing };
}

/** One line per VM that has a resource for which `differs(before, after)` holds (pure). */
function diffLines(before: ResourceTotals, after: ResourceTotals, differs: (b: number, a: number) => boolean): string[] {
  const lines: string[] = [];
  for (const vm of Object.keys(before)) {
    const b = before[vm] ?? {};
    const a = after[vm];
    if (!a) continue;
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
    const diffs = keys.filter((k) => differs(b[k] ?? 0, a[k] ?? 0)).map((k) => `${k} ${b[k] ?? 0} -> ${a[k] ?? 0}`);
    if (diffs.length) lines.push(`${vm}: ${diffs.join(', ')}`);
  }
  return lines;
}

/** What changed between two snapshots, one line per VM that changed: "host: qp 5 -> 4, cq 10 -> 8" (pure). */
export const resourceChanges = (before: ResourceTotals, after: ResourceTotals): string[] => diffLines(before, after, (b, a) => b !== a);

/**
 * What grew between two snapshots, one line per VM: "host: qp 3 -> 4" (pure). A
 * recovery that leaves more objects than it found holds a queue twice, or leaked one.
 */
export const resourceGrowth = (before: ResourceTotals, after: ResourceTotals): string[] => diffLines(before, after, (b, a) => a > b);

/** Saves both snapshots and the changes as runs/<run>/rdma-resources.json. */
export async function saveResources(runDir: string, before: ResourceTotals, after: ResourceTotals): Promise<string[]> {
  const changes = resourceChanges(before, after);
  await writeFile(join(runDir, 'rdma-resources.json'), JSON.stringify({ before, after, changes }, null, 1));
  return changes;
}

/** The host's keep-alive timeout when the connect sets none (NVME_DEFAULT_KATO), s. */
export const NVME_DEFAULT_KATO_S = 5;

/**
 * Until when (run ms) a growth may still be an association the host gave up: when a
 * link flap eats the host's disconnect, the target learns of it only from its
 * keep-alive timer, which nvmet re-arms once if it saw a command in the period, so it
 * fires at most 2 x kato after the last one (before the last reset's device went away),
 * and then frees the queues. kato 0 (no keep-alive): the target never learns; no wait (pure).
 */
export function settleUntilMs(lastGoneMs: number, katoS: number): number {
  return katoS > 0 ? lastGoneMs + 2 * katoS * 1000 + RDMA_TEARDOWN_MS : lastGoneMs;
}

/**
 * The counts once no VM holds more than before, or as they are at `untilMs` (run ms):
 * read again every RDMA_SETTLE_POLL_MS while they show a growth. A VM that stops
 * answering keeps its last counts.
 */
export async function settleGrowth(
  lab: Pick<RunLab, 'machines'>,
  before: ResourceTotals,
  after: ResourceTotals,
  untilMs: number,
  nowMs: () => number,
): Promise<ResourceTotals> {
  let now = after;
  while (resourceGrowth(before, now).length > 0 && nowMs() + RDMA_SETTLE_POLL_MS <= untilMs) {
    await sleep(RDMA_SETTLE_POLL_MS);
    now = { ...now, ...(await snapshotResources(lab)).totals };
  }
  return now;
}
