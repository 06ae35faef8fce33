// Shared set-up for VM tests: the stock kernel from the cache, a log directory per test
// file, and a skip (with the reason) where the lab cannot run.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execaSync } from 'execa';
import t from 'tap';
import { cacheDir } from '../../src/kernel/cache.js';
import { findFetched, type Fetched } from '../../src/kernel/debian.js';
import { pickSeries, pinsFile, readPins } from '../../src/kernel/pins.js';
import { resolveKernel, type KernelSpec } from '../../src/kernel/resolve.js';
import { projectRoot } from '../../src/util/project-root.js';

export const project = projectRoot();

/** The pinned kernel of a series (the pins file's default when none is given) if the cache has it complete; no network, no apt. */
export async function cachedSeries(opts: { cache: string; series?: string }): Promise<Fetched | undefined> {
  const { series, pin } = pickSeries(await readPins(pinsFile(project)), opts.series);
  return findFetched(opts.cache, series, pin);
}

/** Why VM tests cannot run here, or undefined when they can. */
async function labUnavailable(): Promise<string | undefined> {
  const q = execaSync('qemu-system-x86_64', ['--version'], { reject: false });
  if (q.exitCode !== 0) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!(await cachedSeries({ cache: cacheDir() }))) return 'no pinned kernel in the cache: run `reset-bench kernel fetch` first';
  if (!existsSync(join(project, 'dist', 'guest', 'agent.js'))) return 'dist/ is not built: run npm run build';
  return undefined;
}

/** Whether this file's VM tests can run here; if not, the file is planned as skipped, saying why. */
export async function labOrSkip(): Promise<boolean> {
  const why = await labUnavailable();
  if (why !== undefined) t.plan(0, `VM tests skipped: ${why}`);
  return why === undefined;
}

export async function stockKernel(): Promise<KernelSpec> {
  return resolveKernel('stock');
}

export function testLogDir(name: string): string {
  const dir = join(project, 'results', 'test-vm', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
