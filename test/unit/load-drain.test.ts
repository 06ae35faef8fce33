// The loader's end with its I/O held in flight: a stop (no final pass follows) gives up on
// it after stopDrainTimeoutMs, a finish (the final pass would follow) waits drainTimeoutMs.
// The I/O is held by the kernel, as on an NVMe controller that is reconnecting: the file
// is on ext4 on a loop device, and the filesystem is frozen (fsfreeze) under the running
// job, so its writes block in the kernel until it is thawed. Root only (mount, fsfreeze);
// skipped with the reason otherwise.
import t, { type Test } from 'tap';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startLoad, type LoadResult, type Progress } from '../../src/load/run.js';
import type { JobSpecInput } from '../../src/load/spec.js';
import { uringUnavailable } from '../helpers/uring-scratch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The job's depth: every one of its writes ends up held. */
const DEPTH = 8;
/** How long a wait for the job's progress (writes flowing, then all held) may take. */
const PROGRESS_WAIT_MS = 10_000;

/**
 * How long the teardown retries the unmount. A job that gave up on held writes closed its
 * ring, but the kernel ends the ring asynchronously (io_uring's exit work): the writes
 * finish after the thaw and only then drop their file references, so the mount can stay
 * busy for a moment after the last test (CI saw EBUSY here).
 */
const UNMOUNT_RETRY_MS = 10_000;

/** Unmounts `mnt`, retrying while it is busy; detaches it (umount -l) once UNMOUNT_RETRY_MS is out. */
async function unmount(mnt: string): Promise<void> {
  if ((await execa('mountpoint', ['-q', mnt], { reject: false })).exitCode !== 0) return; // never mounted
  const end = Date.now() + UNMOUNT_RETRY_MS;
  while ((await execa('umount', [mnt], { reject: false })).exitCode !== 0) {
    if (Date.now() > end) {
      await execa('umount', ['-l', mnt], { reject: false });
      return;
    }
    await sleep(100);
  }
}

/** A scratch ext4 mount that can be frozen, removed when the file's tests end; or why there cannot be one here. */
async function freezableMount(): Promise<{ mnt: string } | { skip: string }> {
  const noUring = uringUnavailable();
  if (noUring !== undefined) return { skip: noUring };
  if (process.getuid?.() !== 0) return { skip: 'needs root (mount, fsfreeze)' };
  const dir = mkdtempSync(join(tmpdir(), 'rb-drain-'));
  const img = join(dir, 'fs.img');
  const mnt = join(dir, 'mnt');
  // thawed and unmounted before the directory goes
  t.teardown(async () => {
    await execa('fsfreeze', ['-u', mnt], { reject: false });
    await unmount(mnt);
    rmSync(dir, { recursive: true, force: true });
  });
  closeSync(openSync(img, 'w'));
  const mkfs = await execa('mkfs.ext4', ['-q', '-F', img, '64M'], { reject: false });
  if (mkfs.exitCode !== 0) return { skip: `mkfs.ext4 failed: ${mkfs.stderr.trim() || mkfs.shortMessage}` };
  mkdirSync(mnt);
  const mount = await execa('mount', ['-o', 'loop', img, mnt], { reject: false });
  if (mount.exitCode !== 0) return { skip: `mount -o loop failed: ${mount.stderr.trim() || mount.shortMessage}` };
  return { mnt };
}

/** Polls `cond` until it holds; fails the test naming `what` after PROGRESS_WAIT_MS. */
async function until(t: Test, what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + PROGRESS_WAIT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${PROGRESS_WAIT_MS} ms`);
    await sleep(20);
  }
  t.pass(what);
}

interface Held {
  r: LoadResult;
  /** ms from the first end request to the result */
  ms: number;
}

/**
 * Runs a randwrite job on `file`, freezes the filesystem once writes flow and waits until
 * all DEPTH are held, calls `end` on it, and thaws once the result is in.
 */
async function endWithHeldIo(t: Test, mnt: string, file: string, spec: Partial<JobSpecInput>, end: (h: { stop(): void; finish(): void }) => Promise<void>): Promise<Held> {
  const f = join(mnt, file);
  const fd = openSync(f, 'w');
  ftruncateSync(fd, 4 << 20);
  closeSync(fd);
  let last: Progress | undefined;
  const finish = new AbortController();
  const h = startLoad(
    { filename: f, rw: 'randwrite', bs: 4096, size: '4m', iodepth: DEPTH, runtimeMs: 60_000, progressMs: 50, verify: true, ...spec },
    { onProgress: (p) => (last = p), finishSignal: finish.signal },
  );
  try {
    await until(t, 'writes flowing', () => (last?.writes ?? 0) > 50);
    await execa('fsfreeze', ['-f', mnt]);
    let held = -1;
    let heldSince = Date.now();
    await until(t, `all ${DEPTH} writes held for 300 ms`, () => {
      if (last?.writes !== held) {
        held = last?.writes ?? -1;
        heldSince = Date.now();
      }
      return last?.inflight === DEPTH && Date.now() - heldSince >= 300;
    });
    const t0 = Date.now();
    await end({ stop: () => h.stop(), finish: () => finish.abort() });
    const r = await h.result;
    return { r, ms: Date.now() - t0 };
  } finally {
    await execa('fsfreeze', ['-u', mnt], { reject: false });
    h.stop();
    await h.result.catch(() => undefined);
  }
}

{
  const m = await freezableMount();
  const skip = 'skip' in m ? m.skip : false;
  const mnt = 'mnt' in m ? m.mnt : '';
  const stop = async (h: { stop(): void }): Promise<void> => h.stop();
  const finish = async (h: { finish(): void }): Promise<void> => h.finish();

  t.test('a stop gives up on held I/O after stopDrainTimeoutMs, not drainTimeoutMs', { skip }, async (t) => {
    const { r, ms } = await endWithHeldIo(t, mnt, 'stop.dat', { drainTimeoutMs: 30_000, stopDrainTimeoutMs: 300 }, stop);
    t.ok(ms >= 300 && ms < 3000, `returned ${ms} ms after the stop`);
    t.equal(r.inflightAtEnd, DEPTH, 'the held writes are reported');
    t.ok(r.stoppedEarly);
    t.notOk(r.verify.finalPass.ran, 'no final pass');
    t.equal(r.spec.stopDrainTimeoutMs, 300);
  });

  t.test('without stopDrainTimeoutMs a stop waits drainTimeoutMs, as before', { skip }, async (t) => {
    const { r, ms } = await endWithHeldIo(t, mnt, 'default.dat', { drainTimeoutMs: 1200 }, stop);
    t.ok(ms >= 1200 && ms < 4000, `returned ${ms} ms after the stop`);
    t.equal(r.inflightAtEnd, DEPTH);
  });

  t.test('a finish (the final pass would follow) waits drainTimeoutMs', { skip }, async (t) => {
    const { r, ms } = await endWithHeldIo(t, mnt, 'finish.dat', { drainTimeoutMs: 1200, stopDrainTimeoutMs: 100 }, finish);
    t.ok(ms >= 1200 && ms < 4000, `returned ${ms} ms after the finish`);
    t.equal(r.inflightAtEnd, DEPTH);
    t.notOk(r.stoppedEarly, 'a finish is not an early stop');
    t.notOk(r.verify.finalPass.ran, 'no final pass with writes still held (their buffers are the ring\'s)');
  });

  t.test("a stop during a finish's drain ends it after stopDrainTimeoutMs", { skip }, async (t) => {
    const { r, ms } = await endWithHeldIo(t, mnt, 'both.dat', { drainTimeoutMs: 30_000, stopDrainTimeoutMs: 300 }, async (h) => {
      h.finish();
      await sleep(200);
      h.stop();
    });
    t.ok(ms >= 500 && ms < 3200, `returned ${ms} ms after the finish (200 ms to the stop)`);
    t.equal(r.inflightAtEnd, DEPTH);
    t.notOk(r.verify.finalPass.ran);
  });
}
