// The lab's NVMe-oF set-up (src/orchestrate/nvme-lab.ts) against the fake lab's agents:
// the target's configfs, the host's modules and connect, the namespace lookup.
import t from 'tap';
import {
  connectHost,
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
import { FakeLab, failed, ok } from '../helpers/fake-lab.js';
import { readTarget } from '../helpers/read-target.js';

t.test('setupTarget: rxe made and ACTIVE, brd and nvmet-rdma loaded, the ramdisk behind port 1', async (t) => {
  const lab = new FakeLab();
  await setupTarget(lab);
  const a = lab.target.agent;
  // the three module loads go at once (their order is not fixed), the port only once rxe0 is ACTIVE
  t.same([...a.execs()].sort(), [`modprobe brd rd_nr=1 rd_size=${256 * 1024}`, 'modprobe nvmet-rdma', 'modprobe rdma_rxe']);
  const ops = a.calls.map((c) => `${c.op} ${typeof c.args.path === 'string' ? c.args.path : ''}`);
  const active = ops.indexOf('waitFor /sys/class/infiniband/rxe0/ports/1/state');
  t.ok(active >= 0 && ops.findIndex((o) => o.startsWith('mkdir /sys/kernel/config/nvmet/ports/1')) > active, 'port 1 made after rxe0 is ACTIVE');
  t.same(a.ops('rdma.newLink'), [{ name: 'rxe0', netdev: 'eth0', type: 'rxe' }]);
  t.equal(a.ops('waitFor')[0]?.path, '/sys/class/infiniband/rxe0/ports/1/state');
  const cfg = await readTarget(a.fs());
  t.equal(cfg.ports[0]?.traddr, '10.99.0.1');
  t.same(cfg.ports[0]?.subsystems, [LAB_NQN]);
  t.equal(cfg.subsystems[0]?.namespaces[0]?.path, '/dev/ram0');
  t.equal(lab.host.agent.calls.length, 0, 'the host is not touched');
});

t.test('setupTarget with an rxe device already there does not make another', async (t) => {
  const lab = new FakeLab();
  lab.target.agent.files.seedDir('/sys/class/infiniband/rxe0');
  await setupTarget(lab, 64);
  t.same(lab.target.agent.ops('rdma.newLink'), []);
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
  t.same(pair.host.agent.execs(), ['modprobe rdma_rxe', 'modprobe nvme-rdma']);
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
  t.ok(lab.host.agent.execs().includes('test -b /dev/nvme0n1'));
});

t.test('findNamespace waits for the block device node, and names a controller with no namespace', async (t) => {
  const lab = new FakeLab();
  await setupTarget(lab);
  await connectHost(lab, {});
  let tries = 0;
  lab.host.agent.execHandlers.unshift((argv) => (argv[0] === 'test' ? (++tries < 3 ? failed('') : ok()) : undefined));
  const c = await findNamespace(lab, 'nvme0', 'opts');
  t.equal(c.namespace, '/dev/nvme0n1');
  t.equal(tries, 3, 'polled until the node was a block device');
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
  t.same(lab.target.agent.execs(), [`modprobe brd rd_nr=1 rd_size=${256 * 1024}`], 'brd only: its size is the scenario’s');
  t.same(lab.host.agent.execs(), ['modprobe nvme-rdma'], 'what the kernel did not load at boot is loaded now');
  t.same(lab.target.agent.ops('rdma.newLink'), [{ name: 'rxe0', netdev: 'eth0', type: 'rxe' }], 'the rxe device is still made');
});
