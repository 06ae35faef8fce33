// Saved VM states to start lab VMs from instead of booting them (see snapshot-boot.ts):
// where they live, the key that says which boot a state belongs to, and pruning.
import { createHash } from 'node:crypto';
import { readdir, rename, rm, stat, utimes, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import { cacheDir } from '../kernel/cache.js';

/** Bumped when what a state holds or how it is resumed changes: older states are not used. */
export const SNAPSHOT_FORMAT = 1;

/**
 * How many states a cache keeps, the most recently used (about 90 MB each for a 1 GiB
 * lab VM): the tests and a catalog boot many kinds of VM (kernels, roles, topologies,
 * rxe devices at boot or not), and a state evicted and saved again costs a boot 1-3 s.
 */
export const SNAPSHOTS_KEPT = 24;

/**
 * Where the states go: <cache>/snapshots, or nowhere (every VM boots cold) when
 * RESET_BENCH_SNAPSHOTS=off.
 */
export function snapshotsDir(cache: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.RESET_BENCH_SNAPSHOTS;
  if (v === undefined || v === '' || v === 'on') return join(cacheDir(cache), 'snapshots');
  if (v === 'off') return undefined;
  throw new UsageError(`${JSON.stringify(v)} is not a setting: use on (the default) or off`, 'RESET_BENCH_SNAPSHOTS');
}

/** What a state depends on: a VM restored from it must be the VM that cold boot would have made. */
export interface SnapshotKeyInput {
  /** QEMU's command line with everything per-run (socket paths, the initrd's path) taken out. */
  args: readonly string[];
  /** The initramfs's bytes: stage 1 and the modules loaded before the point. */
  initrd: Buffer;
  /** The kernel image and the QEMU binary, by path, size and mtime. */
  files: readonly string[];
}

/** initramfsFor gives the same Buffer to every boot of a kind in a process: hashed once. */
const initrdHashes = new WeakMap<Buffer, string>();

function initrdHash(b: Buffer): string {
  let h = initrdHashes.get(b);
  if (!h) initrdHashes.set(b, (h = createHash('sha256').update(b).digest('hex')));
  return h;
}

export async function snapshotKey(k: SnapshotKeyInput): Promise<string> {
  const h = createHash('sha256');
  h.update(JSON.stringify({ format: SNAPSHOT_FORMAT, args: k.args }));
  h.update(initrdHash(k.initrd));
  for (const f of k.files) {
    const st = await stat(f);
    h.update(JSON.stringify([f, st.size, st.mtimeMs]));
  }
  return h.digest('hex').slice(0, 32);
}

export interface StoredSnapshot {
  key: string;
  /** The migration stream QEMU reads with -incoming. */
  state: string;
  /** The console's text up to the point, replayed into a restored VM's console log. */
  console: string;
}

export const snapshotPaths = (dir: string, key: string): { state: string; console: string } => ({
  state: join(dir, `${key}.state`),
  console: join(dir, `${key}.console`),
});

/** The state for this key, if the cache has a complete one (its console text is written first). */
export async function findSnapshot(dir: string, key: string): Promise<StoredSnapshot | undefined> {
  const p = snapshotPaths(dir, key);
  try {
    const [, text] = await Promise.all([stat(p.state), readFile(p.console, 'utf8')]);
    const now = new Date();
    await utimes(p.state, now, now).catch(() => undefined); // the newest used is kept longest
    return { key, state: p.state, console: text };
  } catch {
    return undefined;
  }
}

/**
 * Publishes a state written to `tmpState`: the console text first, then the state by
 * rename, so a reader never sees a state without its console or half a state.
 */
export async function publishSnapshot(dir: string, key: string, tmpState: string, consoleText: string): Promise<void> {
  const p = snapshotPaths(dir, key);
  const tmpConsole = `${tmpState}.console.tmp`;
  await writeFile(tmpConsole, consoleText);
  await rename(tmpConsole, p.console);
  await rename(tmpState, p.state);
}

export async function forgetSnapshot(dir: string, key: string): Promise<void> {
  const p = snapshotPaths(dir, key);
  await Promise.all([rm(p.state, { force: true }), rm(p.console, { force: true })]);
}

/** A temporary older than this is left from a save that died (a save takes seconds). */
const STALE_TMP_MS = 3_600_000;

/** Removes all but the `keep` most recently used states (and their consoles), and temporaries of saves that died. */
export async function pruneSnapshots(dir: string, keep = SNAPSHOTS_KEPT): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((n) => n.endsWith('.tmp')).map(async (n) => {
      const st = await stat(join(dir, n)).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_TMP_MS) await rm(join(dir, n), { force: true });
    }),
  );
  const states = await Promise.all(
    names.filter((n) => n.endsWith('.state')).map(async (n) => ({ key: n.slice(0, -'.state'.length), mtime: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  const old = states.sort((a, b) => b.mtime - a.mtime).slice(keep).map((s) => s.key);
  await Promise.all(old.map((k) => forgetSnapshot(dir, k)));
  return old;
}
