import t from 'tap';
import { mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/util/errors.js';
import { findSnapshot, forgetSnapshot, publishSnapshot, pruneSnapshots, snapshotKey, snapshotPaths, snapshotsDir } from '../../src/vm/snapshot-store.js';
import { goLine, SNAPSHOT_POINT } from '../../src/vm/snapshot-boot.js';
import { kernelAppend, qemuArgs, snapshotKeyArgs, type QemuSpec } from '../../src/vm/qemu-args.js';

const spec = (over: Partial<QemuSpec> = {}): QemuSpec => ({
  name: 'host',
  kernel: '/k/vmlinux',
  initrd: '/tmp/reset-bench-abc/host/initramfs.cpio',
  append: 'console=ttyS0 rb.snap=1',
  memMb: 1024,
  accel: 'tcg',
  shareRoot: '/',
  qmpSocket: '/tmp/reset-bench-abc/host/qmp.sock',
  agentSocket: '/tmp/reset-bench-abc/host/agent.sock',
  shellSocket: '/tmp/reset-bench-abc/host/shell.sock',
  nics: [{ id: 'nic0', mac: '52:54:00:72:62:02', link: { kind: 'dgram', local: '/tmp/reset-bench-abc/link-host.sock', remote: '/tmp/reset-bench-abc/link-target.sock' }, rootPort: 'rp1' }],
  ...over,
});

t.test('RESET_BENCH_SNAPSHOTS: on by default under the cache, off for cold boots, anything else refused naming it', async (t) => {
  t.equal(snapshotsDir('/c', {}), '/c/snapshots');
  t.equal(snapshotsDir('/c', { RESET_BENCH_SNAPSHOTS: 'on' }), '/c/snapshots');
  t.equal(snapshotsDir('/c', { RESET_BENCH_SNAPSHOTS: 'off' }), undefined);
  let err: unknown;
  try {
    snapshotsDir('/c', { RESET_BENCH_SNAPSHOTS: '0' });
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof UsageError, 'a usage error (exit code 2)');
  t.match((err as Error).message, /^RESET_BENCH_SNAPSHOTS: "0" is not a setting: use on .* or off$/);
});

t.test('the key ignores what differs between runs and follows what makes a different VM', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rb-snapkey-'));
  const kernel = join(dir, 'vmlinux');
  await writeFile(kernel, 'kernel');
  const initrd = Buffer.from('initramfs');
  const key = (s: QemuSpec, bytes = initrd) => snapshotKey({ args: snapshotKeyArgs(s), initrd: bytes, files: [kernel] });
  const k0 = await key(spec());
  t.match(k0, /^[0-9a-f]{32}$/);
  const otherRun = spec({
    initrd: '/tmp/reset-bench-xyz/host/initramfs.cpio',
    qmpSocket: '/tmp/reset-bench-xyz/host/qmp.sock',
    agentSocket: '/tmp/reset-bench-xyz/host/agent.sock',
    shellSocket: '/tmp/reset-bench-xyz/host/shell.sock',
    nics: [{ ...spec().nics[0]!, link: { kind: 'dgram', local: '/tmp/reset-bench-xyz/l1', remote: '/tmp/reset-bench-xyz/l2' } }],
  });
  t.equal(await key(otherRun), k0, 'another run directory: the same VM');
  t.not(await key(spec({ append: 'console=ttyS0 rb.snap=1 rb.role=target' })), k0, 'another command line');
  t.not(await key(spec({ memMb: 2048 })), k0, 'another memory size');
  t.not(await key(spec({ nics: [{ ...spec().nics[0]!, mac: '52:54:00:72:62:01' }] })), k0, 'another MAC (a device property the state holds)');
  t.not(await key(spec(), Buffer.from('initramfs2')), k0, 'another initramfs (stage 1, its modules)');
  await utimes(kernel, new Date(), new Date(Date.now() - 60_000));
  t.not(await key(spec()), k0, 'a kernel image rebuilt in place');
  t.same(snapshotKeyArgs(spec()).filter((a) => a.includes('reset-bench-abc')), [], 'no per-run path left in what is keyed');
  t.ok(qemuArgs(spec()).includes('vmgenid,guid=auto'), 'every VM has a generation ID device, new at each QEMU start');
});

t.test('a state is found only whole, published console first, and forgotten with its console', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rb-snapstore-'));
  t.equal(await findSnapshot(dir, 'k1'), undefined, 'nothing saved');
  const tmp = join(dir, 'k1.state.123.ab.tmp');
  await writeFile(tmp, 'state bytes');
  await writeFile(snapshotPaths(dir, 'k1').state, 'a state without its console');
  t.equal(await findSnapshot(dir, 'k1'), undefined, 'a state without its console text is not used');
  await publishSnapshot(dir, 'k1', tmp, '[ 0.1] boot line\nRESET_BENCH_SNAPSHOT_POINT\n');
  const found = await findSnapshot(dir, 'k1');
  t.same(found, { key: 'k1', state: join(dir, 'k1.state'), console: '[ 0.1] boot line\nRESET_BENCH_SNAPSHOT_POINT\n' });
  t.same((await readdir(dir)).sort(), ['k1.console', 'k1.state'], 'no temporary left');
  await forgetSnapshot(dir, 'k1');
  t.same(await readdir(dir), []);
});

t.test('pruning keeps the most recently used states and drops dead saves\' temporaries', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rb-snapprune-'));
  const now = Date.now();
  for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) {
    await writeFile(join(dir, `${k}.state`), k);
    await writeFile(join(dir, `${k}.console`), k);
    const when = new Date(now - (4 - i) * 60_000); // a oldest, d newest
    await utimes(join(dir, `${k}.state`), when, when);
  }
  await writeFile(join(dir, 'x.state.1.aa.tmp'), 'dead');
  await utimes(join(dir, 'x.state.1.aa.tmp'), new Date(now - 2 * 3_600_000), new Date(now - 2 * 3_600_000));
  await writeFile(join(dir, 'y.state.2.bb.tmp'), 'being written');
  await findSnapshot(dir, 'a'); // used now: the newest
  t.same((await pruneSnapshots(dir, 2)).sort(), ['b', 'c']);
  t.same((await readdir(dir)).sort(), ['a.console', 'a.state', 'd.console', 'd.state', 'y.state.2.bb.tmp'], 'a fresh temporary may be a save under way');
});

t.test('the snapshot point on the command line and the go line stage 1 reads', async (t) => {
  const base = { modulesDir: '/m', project: '/p', hostname: 'h', role: 'host' };
  t.notMatch(kernelAppend(base), /rb\.snap/);
  t.match(kernelAppend({ ...base, snapshotPoint: true }), / rb\.snap=1(\s|$)/);
  t.equal(goLine(Date.UTC(2026, 11, 2, 7, 0, 0, 999)), `go ${Date.UTC(2026, 11, 2, 7, 0, 0) / 1000}\n`, 'whole seconds, for busybox date -s @N');
  t.equal(SNAPSHOT_POINT, 'RESET_BENCH_SNAPSHOT_POINT', 'the line vm/init prints');
});
