import t from 'tap';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_MODPROBE, LAB_MODPROBE_SCRIPT, agentFiles, buildInitramfs, initramfsFor, MODULE_PARAMS, namedFiles, orderFile, STAGE1_MODULES, withoutSignature } from '../../src/vm/initramfs.js';
import { readCpio } from '../helpers/cpio-reader.js';
import { tempDirSync } from '../helpers/temp-dir.js';

t.test('the initramfs has busybox, /dev/console, init and the stage-1 modules in load order', async (t) => {
  const dir = tempDirSync('rb-initramfs-');
  const mods = join(dir, 'lib/modules/6.1.0-test');
  mkdirSync(join(mods, 'kernel'), { recursive: true });
  const ko = ['virtio_ring', 'virtio', 'virtio_pci', '9pnet', 'netfs', '9p', '9pnet_virtio', 'overlay'];
  for (const m of ko) writeFileSync(join(mods, 'kernel', `${m}.ko`), `ELF-${m}`);
  writeFileSync(
    join(mods, 'modules.dep'),
    [
      'kernel/virtio_pci.ko: kernel/virtio.ko kernel/virtio_ring.ko',
      'kernel/virtio.ko: kernel/virtio_ring.ko',
      'kernel/virtio_ring.ko:',
      'kernel/9pnet.ko:',
      'kernel/netfs.ko:',
      'kernel/9p.ko: kernel/9pnet.ko kernel/netfs.ko',
      'kernel/9pnet_virtio.ko: kernel/9pnet.ko kernel/virtio.ko kernel/virtio_ring.ko',
      'kernel/overlay.ko:',
    ].join('\n'),
  );
  writeFileSync(join(mods, 'modules.builtin'), 'kernel/fs/overlayfs/overlay.ko\n');
  writeFileSync(join(dir, 'init'), '#!/bin/busybox sh\n');
  writeFileSync(join(dir, 'busybox'), 'BUSYBOX');
  const entries = readCpio(await buildInitramfs({ modulesDir: mods, initScript: join(dir, 'init'), busybox: join(dir, 'busybox') }));
  const byPath = new Map(entries.map((e) => [e.path, e]));
  t.equal(byPath.get('bin/busybox')?.data.toString(), 'BUSYBOX');
  t.equal(byPath.get('bin/busybox')!.mode & 0o777, 0o755);
  t.same(byPath.get('dev/console')?.rdev, [5, 1]);
  t.equal(byPath.get('init')!.mode & 0o777, 0o755);
  t.equal(byPath.get(LAB_MODPROBE)?.data.toString(), LAB_MODPROBE_SCRIPT, "the kernel's modprobe for the lab");
  t.equal(byPath.get(LAB_MODPROBE)!.mode & 0o777, 0o755);
  const order = byPath.get('mods/order')!.data.toString().trim().split('\n');
  t.same(order, ['virtio_ring', 'virtio', 'virtio_pci', '9pnet', '9pnet_virtio', 'netfs', '9p'], 'dependencies first; built-in overlay skipped');
  for (const m of order) t.equal(byPath.get(`mods/${m}.ko`)?.data.toString(), `ELF-${m}`);
  t.notOk(byPath.has('mods/overlay.ko'));
});

t.test("a role's lab modules follow the stage-1 ones, with their dependencies; built-in and absent ones are skipped", async (t) => {
  const dir = tempDirSync('rb-initramfs-');
  const mods = join(dir, 'lib/modules/6.1.0-test');
  mkdirSync(join(mods, 'kernel'), { recursive: true });
  mkdirSync(join(mods, 'updates'), { recursive: true });
  const files: Record<string, string> = {
    'kernel/virtio_pci.ko': '',
    'kernel/ib_core.ko': '',
    'updates/rdma_rxe.ko': 'kernel/ib_core.ko',
    'kernel/nvmet.ko': '',
    'updates/nvmet-rdma.ko': 'kernel/ib_core.ko kernel/nvmet.ko',
    'updates/nvme-rdma.ko': 'kernel/ib_core.ko',
  };
  for (const f of Object.keys(files)) writeFileSync(join(mods, f), `ELF-${f}`);
  writeFileSync(join(mods, 'modules.dep'), Object.entries(files).map(([f, d]) => `${f}:${d ? ` ${d}` : ''}`).join('\n'));
  writeFileSync(join(dir, 'init'), '#!/bin/busybox sh\n');
  writeFileSync(join(dir, 'busybox'), 'BUSYBOX');
  const orderOf = async (role?: string) => {
    const e = readCpio(await buildInitramfs({ modulesDir: mods, initScript: join(dir, 'init'), busybox: join(dir, 'busybox'), role }));
    return { order: e.find((x) => x.path === 'mods/order')!.data.toString().trim().split('\n'), byPath: new Map(e.map((x) => [x.path, x])) };
  };
  const target = await orderOf('target');
  t.same(target.order, ['virtio_pci', 'ib_core', 'rdma_rxe', 'nvmet', 'nvmet_rdma'], 'dependencies first, after the stage-1 modules');
  t.equal(target.byPath.get('mods/nvmet_rdma.ko')?.data.toString(), 'ELF-updates/nvmet-rdma.ko', 'the variant build in updates/');
  t.same((await orderOf('host')).order, ['virtio_pci', 'ib_core', 'rdma_rxe', 'nvme_rdma']);
  t.same((await orderOf('both')).order, ['virtio_pci', 'ib_core', 'rdma_rxe', 'nvmet', 'nvmet_rdma', 'nvme_rdma']);
  t.same((await orderOf()).order, ['virtio_pci'], 'no role: only what the guest needs to start');
  writeFileSync(join(mods, 'modules.builtin'), 'kernel/drivers/infiniband/sw/rxe/rdma_rxe.ko\n');
  t.same((await orderOf('host')).order, ['virtio_pci', 'ib_core', 'nvme_rdma'], 'a built-in rdma_rxe is not loaded (nor its dependency through it)');
});

t.test('brd carries its insmod parameters in /mods/order; crc32_pclmul is not loaded', async (t) => {
  t.equal(orderFile(['ib_core', 'brd']), `ib_core\nbrd ${MODULE_PARAMS.brd!.join(' ')}\n`);
  t.same(MODULE_PARAMS.brd, ['rd_nr=1', 'rd_size=262144'], 'one 256 MiB ramdisk, the set-up’s default');
  const dir = tempDirSync('rb-initramfs-');
  const mods = join(dir, 'lib/modules/6.1.0-test');
  mkdirSync(join(mods, 'kernel'), { recursive: true });
  for (const m of ['brd', 'crc32-pclmul', 'rdma_rxe']) writeFileSync(join(mods, 'kernel', `${m}.ko`), `ELF-${m}`);
  writeFileSync(join(mods, 'modules.dep'), 'kernel/brd.ko:\nkernel/crc32-pclmul.ko:\nkernel/rdma_rxe.ko:\n');
  writeFileSync(join(dir, 'init'), '#!/bin/busybox sh\n');
  writeFileSync(join(dir, 'busybox'), 'BUSYBOX');
  const files = async (role: string) => {
    const e = readCpio(await buildInitramfs({ modulesDir: mods, initScript: join(dir, 'init'), busybox: join(dir, 'busybox'), role }));
    return new Map(e.map((x) => [x.path, x.data.toString()]));
  };
  const target = await files('target');
  t.equal(target.get('mods/order'), 'rdma_rxe\nbrd rd_nr=1 rd_size=262144\n', 'brd with its shape; no crc32_pclmul (slower than generic under TCG)');
  t.notOk(STAGE1_MODULES.includes('crc32_pclmul'));
  t.equal((await files('host')).get('mods/order'), 'rdma_rxe\n', 'no ramdisk on the host');
});

t.test('initramfsFor builds once per process for the same inputs, again when one changes', async (t) => {
  const dir = tempDirSync('rb-initramfs-');
  const mods = join(dir, 'lib/modules/6.1.0-test');
  mkdirSync(join(mods, 'kernel'), { recursive: true });
  writeFileSync(join(mods, 'kernel', 'brd.ko'), 'ELF-brd');
  writeFileSync(join(mods, 'modules.dep'), 'kernel/brd.ko:\n');
  const init = join(dir, 'init');
  writeFileSync(init, '#!/bin/busybox sh\n');
  writeFileSync(join(dir, 'busybox'), 'BUSYBOX');
  const o = { modulesDir: mods, initScript: init, busybox: join(dir, 'busybox'), role: 'target' };
  const a = await initramfsFor(o);
  t.equal(await initramfsFor(o), a, 'the same build');
  t.not(await initramfsFor({ ...o, role: 'host' }), a, 'another role, another build');
  writeFileSync(init, '#!/bin/busybox sh\necho changed\n');
  utimesSync(init, new Date(), new Date(Date.now() + 5000));
  const b = await initramfsFor(o);
  t.not(b, a, 'a changed init script is built again');
  await t.rejects(initramfsFor({ ...o, modulesDir: join(dir, 'lib/modules/6.1.0-none') }), {
    message: /the initramfs cannot be built: .*6\.1\.0-none\/modules\.dep is missing \(ENOENT\); run `reset-bench kernel modules`/,
  });
  t.ok(readCpio(b).find((e) => e.path === 'init')!.data.toString().includes('changed'));
});

t.test("a module's appended signature is cut off; a module without one, or with a trailer that does not add up, is left as it is", async (t) => {
  const body = Buffer.from('\x7fELF module body');
  const sig = Buffer.alloc(300, 0xab);
  const info = Buffer.alloc(12);
  info.writeUInt32BE(sig.length, 8);
  const magic = Buffer.from('~Module signature appended~\n');
  t.same(withoutSignature(Buffer.concat([body, sig, info, magic])), body, 'the bytes that were signed');
  t.same(withoutSignature(body), body, 'unsigned: unchanged');
  const bad = Buffer.alloc(12);
  bad.writeUInt32BE(10_000, 8);
  const lying = Buffer.concat([body, bad, magic]);
  t.same(withoutSignature(lying), lying, 'a length past the start: unchanged');
  t.same(withoutSignature(magic), magic, 'only the magic: unchanged');
});

t.test("the initramfs carries the agent's files of the guest bundle, not the CLI's", async (t) => {
  t.same(namedFiles('import { a } from "./chunk-A1.js"; const m = await import("./ops-net-X_2.js"); import "./side.js"; "../up.js" "./not-js.json"'), ['chunk-A1.js', 'ops-net-X_2.js', 'side.js']);
  const dir = tempDirSync('rb-bundle-');
  const files: Record<string, string> = {
    'agent.js': 'import { x } from "./chunk-A.js"; () => import("./ops-B.js"); "./gone.js"',
    'chunk-A.js': 'export const x = 1;',
    'ops-B.js': 'import "./chunk-A.js"; import { y } from "./chunk-C.js";',
    'chunk-C.js': 'export const y = 2;',
    'main.js': 'import "./cli-D.js"; import "./chunk-A.js";',
    'cli-D.js': '',
    'bundle-meta.json': '{}',
  };
  for (const [n, c] of Object.entries(files)) writeFileSync(join(dir, n), c);
  t.same([...(await agentFiles(dir)).keys()].sort(), ['agent.js', 'chunk-A.js', 'chunk-C.js', 'ops-B.js'], 'reached from agent.js, a missing name skipped');
  const init = join(dir, 'init');
  writeFileSync(init, '#!/bin/busybox sh\n');
  const mods = join(dir, 'mods');
  mkdirSync(mods);
  writeFileSync(join(mods, 'modules.dep'), '');
  const cpio = readCpio(await buildInitramfs({ modulesDir: mods, initScript: init, busybox: init, agentDir: dir }));
  t.same(cpio.filter((e) => e.path.startsWith('.rb/agent/')).map((e) => e.path).sort(), ['.rb/agent/agent.js', '.rb/agent/chunk-A.js', '.rb/agent/chunk-C.js', '.rb/agent/ops-B.js']);
  const empty = tempDirSync('rb-bundle-');
  await t.rejects(agentFiles(empty), /no agent\.js in the guest bundle .*npm run build/);
});

t.test('initramfsFor builds again when the guest bundle is built again (its bundle-meta.json)', async (t) => {
  const dir = tempDirSync('rb-initramfs-');
  writeFileSync(join(dir, 'modules.dep'), '');
  writeFileSync(join(dir, 'init'), '#!/bin/busybox sh\n');
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle);
  writeFileSync(join(bundle, 'agent.js'), '"one"');
  writeFileSync(join(bundle, 'bundle-meta.json'), '{}');
  const o = { modulesDir: dir, initScript: join(dir, 'init'), busybox: join(dir, 'init'), agentDir: bundle };
  const a = await initramfsFor(o);
  t.equal(await initramfsFor(o), a, 'the same bundle: the same build');
  writeFileSync(join(bundle, 'agent.js'), '"two"');
  writeFileSync(join(bundle, 'bundle-meta.json'), '{"b":2}');
  const b = await initramfsFor(o);
  t.not(b, a, 'a new bundle: built again');
  t.equal(readCpio(b).find((e) => e.path === '.rb/agent/agent.js')?.data.toString(), '"two"');
});

t.test("the lab's modprobe: a live module answered at once, anything else passed to the host's modprobe", async (t) => {
  const { execa } = await import('execa');
  // A /sys/module of our own (one module live, one on its way in), and the fallback made visible.
  const sys = tempDirSync('rb-sysmodule-');
  mkdirSync(join(sys, 'nvme_rdma'));
  writeFileSync(join(sys, 'nvme_rdma', 'initstate'), 'live\n');
  mkdirSync(join(sys, 'nvme_tcp'));
  writeFileSync(join(sys, 'nvme_tcp', 'initstate'), 'coming\n');
  mkdirSync(join(sys, 'nvme_core'), { recursive: true }); // built in: no initstate
  const script = LAB_MODPROBE_SCRIPT.replaceAll('/sys/module/', `${sys}/`).replace('exec /sbin/modprobe "$@"', 'echo "fallback $*"');
  t.not(script, LAB_MODPROBE_SCRIPT);
  const run = async (...args: string[]) => (await execa('busybox', ['sh', '-s', '--', ...args], { input: script })).stdout;
  t.equal(await run('-q', '--', 'nvme-rdma'), '', 'live, asked for by its dashed name (as nvme-fabrics asks): nothing more to do');
  t.equal(await run('-q', '--', 'nvme_rdma'), '', 'and by its own name');
  t.equal(await run('-q', '--', 'nvme-tcp'), 'fallback -q -- nvme-tcp', 'a module still coming in');
  t.equal(await run('-q', '--', 'nvme-core'), 'fallback -q -- nvme-core', 'no initstate (built in): as kmod says');
  t.equal(await run('-q', '--', 'rb-no-such-module'), 'fallback -q -- rb-no-such-module', 'a module not loaded');
  t.equal(await run('-q', '--', 'net-pf-10'), 'fallback -q -- net-pf-10', 'an alias');
  t.equal(await run('-r', 'nvme_rdma'), 'fallback -r nvme_rdma', 'another form of call');
  t.match(LAB_MODPROBE_SCRIPT, /^#!\/\.rb-init\/bin\/busybox sh\n/, 'the initramfs busybox, where it is after the pivot');
});
