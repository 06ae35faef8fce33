// Why: a run's set-up loaded the lab's modules (rdma_rxe, nvmet-rdma or nvme-rdma and
// their dependencies) only once both VMs were up, one modprobe after another, about two
// seconds under TCG. The modules do not depend on the scenario, so each VM's agent loads
// its role's modules (`rb.preload=` on the kernel command line) as soon as it has said
// "ready", while the other VM is still booting. The set-up asks `modules.preloaded`
// before it looks what is loaded, and loads whatever is still missing itself.
import { readFileSync } from 'node:fs';
import type { Op } from './ops.js';
import { runProcess, type SpawnResult } from './spawn.js';
import { MODULE_PRELOAD_MS } from '../util/timeouts.js';

/** The modules `rb.preload=a,b` names on a kernel command line, in order. */
export function preloadList(cmdline: string): string[] {
  const word = cmdline.split(/\s+/).find((w) => w.startsWith('rb.preload='));
  return (word?.slice('rb.preload='.length) ?? '').split(',').filter(Boolean);
}

export interface PreloadOutcome {
  modules: string[];
  exitCode: number;
  stderr: string;
  ms: number;
}

let started: Promise<PreloadOutcome> | undefined;

/** One `modprobe -a` of the list (nothing to do for an empty one); later calls share the first. */
export function startPreload(modules: string[], argv0 = 'modprobe'): Promise<PreloadOutcome> {
  started ??= (async () => {
    if (modules.length === 0) return { modules, exitCode: 0, stderr: '', ms: 0 };
    const t0 = Date.now();
    const r: SpawnResult = await runProcess({ argv: [argv0, '-a', ...modules], deadlineMs: MODULE_PRELOAD_MS, maxBuffer: 1 << 20 }).catch(
      (e: Error) => ({ exitCode: -1, stdout: '', stderr: e.message, timedOut: false }),
    );
    return { modules, exitCode: r.exitCode, stderr: r.stderr.trim(), ms: Date.now() - t0 };
  })();
  return started;
}

/** The agent's start: the list from /proc/cmdline. */
export function preloadFromCmdline(): Promise<PreloadOutcome> {
  return startPreload(preloadList(readFileSync('/proc/cmdline', 'utf8')));
}

export const moduleOps: Record<string, Op> = {
  /** Waits for the boot-time preload to end (it started when the agent did) and says how it went. */
  preloaded: () => preloadFromCmdline(),
};
