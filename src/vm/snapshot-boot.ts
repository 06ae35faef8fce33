// Starting a lab VM from a saved state instead of booting it. With rb.snap=1 on its
// command line, stage 1 (vm/init) stops at the snapshot point: its modules loaded from
// the initramfs, nothing of the host's mounted yet (QEMU refuses to migrate a VM with a
// 9p export mounted), waiting for a go line on the console. The first boot of a VM
// (same kernel, initramfs, command line and devices: snapshot-store.ts's key) is saved
// there, through QEMU's migration into a file; later ones start QEMU with -incoming on
// -incoming, are sent the file through a unix socket, and are at the point a few
// hundred ms later instead of about 3 s under TCG.
// The go line carries the host's time: a restored guest's clock is the snapshot's.
// Its random state is the snapshot's too, until the vmgenid device (qemu-args.ts) gets
// a new generation ID on the restore and the kernel reseeds its RNG from it.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { HarnessError, errorMessage } from '../util/errors.js';
import { pollUntil, withDeadline } from '../util/deadline.js';
import { SNAPSHOT_LOAD_MS, SNAPSHOT_SAVE_MS } from '../util/timeouts.js';
import type { QmpClient } from './qmp.js';
import { publishSnapshot, snapshotPaths } from './snapshot-store.js';

/** The console line stage 1 prints when it waits at the point. */
export const SNAPSHOT_POINT = 'RESET_BENCH_SNAPSHOT_POINT';

/** The line that lets stage 1 go on from the point: `go <the host's Unix time in s>`. */
export function goLine(nowMs = Date.now()): string {
  return `go ${Math.floor(nowMs / 1000)}\n`;
}

/** QEMU caps a migration's speed (128 MiB/s in 7.2) for live migration over a network; a file wants none. */
const SAVE_BANDWIDTH = 64 * 1024 ** 3;

/**
 * The state file is read and sent to QEMU in chunks this big: with node's default 64 KiB,
 * a restore took 0.63-0.69 s from migrate-incoming to loaded, with 4 MiB 0.48-0.62 s (the
 * two VMs of a pair restored at once, three boots each).
 */
const RESTORE_CHUNK = 4 * 1024 * 1024;

const MigrateInfo = z.object({ status: z.string().optional(), 'error-desc': z.string().optional() });
const StatusInfo = z.object({ status: z.string() });

/**
 * Saves a VM waiting at the point into the snapshot directory under `key`: stopped,
 * migrated into a unix socket this process writes to a file, then published. The VM is
 * left stopped: the caller continues it, saved or not.
 */
export async function saveAtPoint(qmp: QmpClient, o: { dir: string; key: string; runDir: string; consoleText: string }): Promise<void> {
  await mkdir(o.dir, { recursive: true });
  const sock = join(o.runDir, 'snapshot.sock');
  const tmp = `${snapshotPaths(o.dir, o.key).state}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const server = createServer();
  const received = new Promise<void>((resolve, reject) => {
    server.once('connection', (c) => {
      pipeline(c, createWriteStream(tmp)).then(resolve, reject);
    });
    server.once('error', reject);
  });
  received.catch(() => undefined); // awaited below unless QEMU fails first
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(sock, resolve));
  try {
    await qmp.execute('stop');
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': SAVE_BANDWIDTH });
    await qmp.execute('migrate', { uri: `unix:${sock}` });
    await pollUntil(() => migrationDone(qmp), { deadlineMs: SNAPSHOT_SAVE_MS, intervalMs: 50, what: 'QEMU to save the VM at the snapshot point' });
    await withDeadline(received, SNAPSHOT_SAVE_MS, 'the saved VM state to reach its file');
    await publishSnapshot(o.dir, o.key, tmp, o.consoleText);
  } finally {
    server.close();
    await rm(tmp, { force: true });
  }
}

async function migrationDone(qmp: QmpClient): Promise<true | undefined> {
  const m = MigrateInfo.parse(await qmp.execute('query-migrate'));
  if (m.status === 'completed') return true;
  if (m.status === 'failed' || m.status === 'cancelled') throw new HarnessError(`QEMU could not save the VM: ${m['error-desc'] ?? m.status}`);
  return undefined;
}

/**
 * Gives QEMU (started with -incoming defer) the saved state through a unix socket it
 * listens on, waits for it to load, then lets the VM run: a state saved from a stopped
 * VM loads as paused. QEMU's status is what says the state loaded: it may close the
 * socket once it has read the stream's end, before this side's end of the send is
 * through (node's "Premature close"), which is no failure.
 */
export async function restoreState(qmp: QmpClient, o: { state: string; runDir: string }): Promise<void> {
  const sock = join(o.runDir, 'incoming.sock');
  await qmp.execute('migrate-incoming', { uri: `unix:${sock}` });
  let sendError: Error | undefined;
  const file = createReadStream(o.state, { highWaterMark: RESTORE_CHUNK });
  const toQemu = connect(sock);
  void pipeline(file, toQemu).catch((e: unknown) => {
    sendError = e instanceof Error ? e : new Error(String(e));
  });
  let status: string;
  try {
    status = await pollUntil(
      async () => {
        const s = StatusInfo.parse(await qmp.execute('query-status')).status;
        return s === 'inmigrate' ? undefined : s;
      },
      { deadlineMs: SNAPSHOT_LOAD_MS, intervalMs: 20, what: 'QEMU to load the saved VM state' },
    );
  } catch (err) {
    if (!sendError) throw err;
    throw new HarnessError(`${errorMessage(err)} (sending it failed: ${sendError.message})`, { cause: err });
  } finally {
    file.destroy(); // loaded or not, nothing more goes to QEMU
    toQemu.destroy();
  }
  if (status === 'paused') await qmp.execute('cont');
  else if (status !== 'running') throw new HarnessError(`QEMU loaded the saved VM state into a VM that is ${status}, not paused`);
}
