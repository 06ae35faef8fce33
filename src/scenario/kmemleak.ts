// kmemleak on kernels that have it (the debug kernel): forget what boot left
// unreferenced before the scenario, then scan at the end and report what leaked during
// it. The auto-scan period is far longer than a run, so without this a run proves nothing.
import type { LabAgent } from '../orchestrate/nvme-lab.js';
import { KMEMLEAK_SCAN_MS } from '../util/timeouts.js';

type Vm = { agent: LabAgent };

const KMEMLEAK = '/sys/kernel/debug/kmemleak';

/** One leaked object, as one line: "unreferenced object 0x... (size N): comm ..., first frames". */
export function parseKmemleak(report: string): string[] {
  const out: string[] = [];
  for (const block of report.split(/(?=^unreferenced object )/m)) {
    const head = /^unreferenced object (0x[0-9a-f]+) \(size (\d+)\):/m.exec(block);
    if (!head) continue;
    const comm = /comm "([^"]*)"/.exec(block)?.[1];
    const frames = [...block.matchAll(/^\s+\[<[0-9a-f]+>\] ([^\s]+)/gm)].map((m) => m[1]!.replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, ''));
    const where = frames.filter((f) => !/^(kmem_cache_alloc|kmalloc|__kmalloc|kmalloc_trace|__kmem_cache_alloc|slab_post_alloc_hook)/.test(f)).slice(0, 3);
    out.push(`kmemleak: unreferenced object ${head[1]} (size ${head[2]})${comm ? ` from ${comm}` : ''}${where.length ? `: ${where.join(' < ')}` : ''}`);
  }
  return out;
}

export async function hasKmemleak(vm: Vm): Promise<boolean> {
  return vm.agent.fs().exists(KMEMLEAK);
}

/** Marks everything unreferenced so far as reported, so the end scan shows only new leaks. */
export async function clearKmemleak(vm: Vm): Promise<void> {
  await vm.agent.fs().writeFile(KMEMLEAK, 'clear');
}

/**
 * Two scans (an object must stay unreferenced across both, which drops transient
 * false positives), then the report as one line per leaked object.
 */
export async function scanKmemleak(vm: Vm): Promise<string[]> {
  for (let i = 0; i < 2; i++) await vm.agent.call('writeFile', { path: KMEMLEAK, data: 'scan' }, KMEMLEAK_SCAN_MS);
  return parseKmemleak(await vm.agent.fs().readFile(KMEMLEAK));
}
