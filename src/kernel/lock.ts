// One builder at a time per cache entry: several reset-bench processes (a run here, a
// `kernel modules` there) may want the same variant or kernel at once, and two of
// them rebuilding one directory clobber each other's files. The lock is a directory
// (mkdir is atomic) holding the owner's pid; a lock whose owner is gone is taken over.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeadlineError } from '../util/errors.js';
import { sleep } from '../util/deadline.js';
import { CACHE_LOCK_MS, CACHE_LOCK_POLL_MS } from '../util/timeouts.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function tryTake(dir: string): Promise<number | undefined> {
  try {
    await mkdir(dir);
    await writeFile(join(dir, 'pid'), `${process.pid}\n`);
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = Number((await readFile(join(dir, 'pid'), 'utf8').catch(() => '')).trim());
    if (pid && !alive(pid)) {
      await rm(dir, { recursive: true, force: true });
      return tryTake(dir);
    }
    return pid || -1;
  }
}

/** Runs fn holding `<path>.lock`; waits (saying for whom) up to deadlineMs for another holder. */
export async function withLock<T>(
  path: string,
  what: string,
  fn: () => Promise<T>,
  opts: { deadlineMs?: number; say?: (m: string) => void } = {},
): Promise<T> {
  const dir = `${path}.lock`;
  const deadlineMs = opts.deadlineMs ?? CACHE_LOCK_MS;
  const end = Date.now() + deadlineMs;
  let said = false;
  for (;;) {
    const holder = await tryTake(dir);
    if (holder === undefined) break;
    if (!said) opts.say?.(`waiting for ${what}: process ${holder} is building it`);
    said = true;
    if (Date.now() > end) throw new DeadlineError(`${what} (locked by process ${holder}, ${dir})`, deadlineMs);
    await sleep(CACHE_LOCK_POLL_MS);
  }
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
