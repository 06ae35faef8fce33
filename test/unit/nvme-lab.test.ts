// The lab's NVMe-oF set-up (src/orchestrate/nvme-lab.ts) against the fake lab's agents:
// the target's configfs, the host's modules and connect, the namespace lookup.
import t from 'tap';
import {
  connectHost,
  ensureRamdisks,
  findNamespace,
  labFabricsOptions,
  labTargetConfig,
  LAB_HOSTID,
  LAB_HOSTNQN,
  LAB_NQN,
  prepareHost,
  setupTarget,
} from '../../src/orchestrate/nvme-lab.js';
import { parseTargetConfig } from '../../src/orchestrate/configfs/model.js';
import { brdParams, LAB_RAMDISK_MIB } from '../../src/vm/ramdisk.js';
import { MODULE_PARAMS } from '../../src/vm/initramfs.js';
import { FakeLab, failed } from '../helpers/fake-lab.js';
import { readTarget } from '../helpers/read-target.js';

t.test('setupTarget: rxe made and ACTIVE, brd and nvmet-rdma loaded, the ramdisk behind port 1', async (t) => {
  const lab = new FakeLab();
  await setupTarget(lab);
  const a = lab.target.agent;
  // the three module loads go at once (their order is not fixed), the port only once rxe0 is ACTIVE
  t.same([...a.execs()].sort(), [`modprobe brd rd_nr=1 rd_size=${256 * 1024}`, 'modprobe nvmet-rdma', 'modprobe rdma_rxe']);
  const ops = a.calls.map((c) => `${c.op} ${typeof c.args.path === 'string' ? c.args.path : ''}`);
  const active = ops.indexOf('waitFor /sys/class/infiniband/rxe0/ports/1/state');
  t.ok(active >= 0 && ops.indexOf('nvmet.apply ') > active, 'the target applied (port 1 made) after rxe0 is ACTIVE');
  t.same(a.ops('nvmet.apply'), [{ config: parseTargetConfig(labTargetConfig(lab)) }], 'in one request, checked on the host');
  t.notOk(ops.some((o) => /^(mkdir|writeFile|symlink) \/sys\/kernel\/config/.test(o)), 'no configfs file op of its own');
  t.same(a.ops('rdma.newLink'), [{ name: 'rxe0', netdev: 'eth0', type: 'rxe' }]);
  t.equal(a.ops('waitFor')[0]?.path, '/sys/class/infiniband/rxe0/ports/1/state');
  const cfg = await readTarget(a.fs());
  t.equal(cfg.ports[0]?.traddr, '10.99.0.1');
  t.same(cfg.ports[0]?.subsystems, [LAB_NQN]);
  t.equal(cfg.subsystems[0]?.namespaces[0]?.path, '/dev/ram0');
  t.equal(lab.host.agent.calls.length, 0, 'the host is not touched');
});

t.test('setupTarget with an rxe device already there (made at boot) does not make another, and waits for it to be ACTIVE', async (t) => {
  const lab = new FakeLab();
  lab.target.agent.files.seedDir('/sys/class/infiniband/rxe0');
  lab.target.agent.files.seedFile('/sys/class/infiniband/rxe0/ports/1/state', '4: ACTIVE');
  await setupTarget(lab, 64);
  t.same(lab.target.agent.ops('rdma.newLink'), []);
  t.equal(lab.target.agent.ops('waitFor')[0]?.path, '/sys/class/infiniband/rxe0/ports/1/state');
  t.ok(lab.target.agent.execs().includes(`modprobe brd rd_nr=1 rd_size=${64 * 1024}`));
});

t.test('setupTarget fails with the guest command that failed', async (t) => {
  const lab = new FakeLab();
  lab.target.agent.execHandlers.unshift((argv) => (argv[1] === 'nvmet-rdma' ? failed('modprobe: FATAL: Module nvmet-rdma not found') : undefined));
  await t.rejects(setupTarget(lab), /guest: modprobe nvmet-rdma exited 1: modprobe: FATAL: Module nvmet-rdma not found/);
});

t.test('prepareHost: rxe on a pair host, nvme-rdma only when not loaded yet; loopback shares the target rxe', async (t) => {
  const pair = new FakeLab();
  await prepareHost(pair);
  t.same([...pair.host.agent.execs()].sort(), ['modprobe nvme-rdma', 'modprobe rdma_rxe'], 'both at once (their order is not fixed)');
  await prepareHost(pair);
  t.equal(pair.host.agent.execs().filter((e) => e === 'modprobe nvme-rdma').length, 1, 'a process start saved');
  const loop = new FakeLab({ topology: 'loopback' });
  await prepareHost(loop);
  t.same(loop.host.agent.execs(), ['modprobe nvme-rdma']);
  t.same(loop.host.agent.ops('rdma.newLink'), []);
});

t.test('the fabrics options and target config follow the lab addresses', async (t) => {
  t.same(labFabricsOptions({ targetAddr: '10.1.2.3' }, { ctrl_loss_tmo: 5 }), {
    transport: 'rdma',
    traddr: '10.1.2.3',
    trsvcid: '4420',
    nqn: LAB_NQN,
    hostnqn: LAB_HOSTNQN,
    hostid: LAB_HOSTID,
    ctrl_loss_tmo: 5,
  });
  t.equal(parseTargetConfig(labTargetConfig({ targetAddr: '10.1.2.3' })).ports[0]!.traddr, '10.1.2.3', 'a valid config, port 1 on the address');
});

t.test('connectHost: one connect write, live, the namespace block device', async (t) => {
  const lab = new FakeLab();
  await setupTarget(lab);
  const c = await connectHost(lab, { reconnect_delay: 2 });
  t.equal(c.device, 'nvme0');
  t.equal(c.namespace, '/dev/nvme0n1', 'the multipath head, not the path device nvme0c0n1');
  t.match(c.options, /reconnect_delay=2/);
  t.same(lab.host.agent.ops('fabrics.connect').map((a) => a.options), [c.options]);
  t.same(
    lab.host.agent.ops('waitFor').filter((a) => a.test === 'block').map((a) => a.path),
    ['/dev/nvme0n1'],
    'the node is waited for in the agent (a stat), not with a process start',
  );
  t.same(
    lab.host.agent.execs().filter((e) => !e.startsWith('modprobe')),
    [],
    'no process started in the host VM but the module loads stage 1 did not do',
  );
});

t.test('findNamespace waits for the block device node, and names a controller with no namespace', async (t) => {
  const lab = new FakeLab();
  await setupTarget(lab);
  await connectHost(lab, {});
  let tries = 0;
  const real = lab.host.agent.isBlockDevice;
  lab.host.agent.isBlockDevice = (p) => ++tries >= 3 && real(p);
  const c = await findNamespace(lab, 'nvme0', 'opts');
  t.equal(c.namespace, '/dev/nvme0n1');
  t.equal(tries, 3, 'polled until the node was a block device');
  lab.host.agent.isBlockDevice = real;
  lab.host.agent.files.remove('/sys/class/nvme/nvme0/nvme0c0n1');
  // The scan work adds the namespace after "live": a late one is waited for.
  setTimeout(() => lab.host.agent.files.seedDir('/sys/class/nvme/nvme0/nvme0c0n1'), 300);
  t.equal((await findNamespace(lab, 'nvme0', 'opts')).namespace, '/dev/nvme0n1', 'found once the scan added it');
  lab.host.agent.files.remove('/sys/class/nvme/nvme0/nvme0c0n1');
  await t.rejects(findNamespace(lab, 'nvme0', 'opts'), /a namespace of controller nvme0 in sysfs/);
});

t.test('modules stage 1 loaded at boot are not loaded again; the set-up modprobes only the rest', async (t) => {
  const lab = new FakeLab();
  for (const m of ['rdma_rxe', 'nvmet_rdma']) lab.target.agent.files.seedDir(`/sys/module/${m}`);
  lab.host.agent.files.seedDir('/sys/module/rdma_rxe');
  await Promise.all([setupTarget(lab), prepareHost(lab)]);
  t.same(lab.target.agent.execs(), [`modprobe brd rd_nr=1 rd_size=${256 * 1024}`], 'brd, which this boot did not load');
  t.same(lab.host.agent.execs(), ['modprobe nvme-rdma'], 'what the kernel did not load at boot is loaded now');
  t.same(lab.target.agent.ops('rdma.newLink'), [{ name: 'rxe0', netdev: 'eth0', type: 'rxe' }], 'the rxe device is still made');
});

/** A target whose stage 1 loaded its lab modules, brd with the lab's shape (MODULE_PARAMS). */
function bootedTarget(): FakeLab {
  const lab = new FakeLab();
  const a = lab.target.agent;
  for (const m of ['rdma_rxe', 'nvmet_rdma']) a.files.seedDir(`/sys/module/${m}`);
  a.files.seedFile('/sys/module/brd/parameters/rd_nr', '1\n');
  a.files.seedFile('/sys/module/brd/parameters/rd_size', `${LAB_RAMDISK_MIB * 1024}\n`);
  return lab;
}

t.test("brd loaded at boot with the lab's shape: no process start in the target at all", async (t) => {
  t.same(MODULE_PARAMS.brd, brdParams(1, LAB_RAMDISK_MIB), 'stage 1 loads the shape setupTarget wants by default');
  const lab = bootedTarget();
  await setupTarget(lab);
  t.same(lab.target.agent.execs(), []);
  t.equal((await readTarget(lab.target.agent.fs())).subsystems[0]?.namespaces[0]?.path, '/dev/ram0');
});

t.test('ensureRamdisks: another shape unloads the boot’s brd and loads the one wanted', async (t) => {
  const lab = bootedTarget();
  const a = lab.target.agent;
  await ensureRamdisks(a, 2, LAB_RAMDISK_MIB);
  t.same(a.execs(), ['modprobe -r brd', `modprobe brd rd_nr=2 rd_size=${LAB_RAMDISK_MIB * 1024}`]);
  await ensureRamdisks(a, 2, LAB_RAMDISK_MIB);
  t.equal(a.execs().length, 2, 'the shape it has now is kept');
  await ensureRamdisks(a, 2, 64);
  t.same(a.execs().slice(2), ['modprobe -r brd', `modprobe brd rd_nr=2 rd_size=${64 * 1024}`], 'a size change reloads too');
  a.execHandlers.unshift((argv) => (argv[1] === '-r' ? failed('modprobe: FATAL: Module brd is in use.') : undefined));
  await t.rejects(ensureRamdisks(a, 1, 64), /guest: modprobe -r brd exited 1: modprobe: FATAL: Module brd is in use/);
});
