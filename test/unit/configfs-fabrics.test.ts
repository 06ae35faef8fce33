// Host side: /dev/nvme-fabrics option strings, the kernel's answer, waiting for
// live, disconnect, error messages.
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildFabricsOptions,
  connectAndWaitLive,
  connectController,
  controllerState,
  disconnectController,
  fabricsConnectInGuest,
  listControllers,
  parseFabricsAnswer,
  waitControllerState,
  type FabricsPort,
} from '../../src/orchestrate/configfs/index.js';
import { MemConfigfs } from '../helpers/memfs.js';
import { briefError, errnoName } from '../../src/orchestrate/configfs/fabrics.js';

const base = { transport: 'rdma', traddr: '10.0.0.1', trsvcid: '4420', nqn: 'testnqn' };

t.test('option string: fixed order, all the knobs', async (t) => {
  t.equal(
    buildFabricsOptions({
      queue_size: 64,
      nqn: 'testnqn',
      transport: 'rdma',
      traddr: '10.0.0.1',
      trsvcid: '4420',
      hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:h',
      reconnect_delay: 1,
      ctrl_loss_tmo: -1,
      fast_io_fail_tmo: 5,
      keep_alive_tmo: '5',
      nr_io_queues: 2,
      duplicate_connect: true,
      disable_sqflow: false,
    }),
    'transport=rdma,traddr=10.0.0.1,trsvcid=4420,nqn=testnqn,hostnqn=nqn.2014-08.org.nvmexpress:uuid:h,' +
      'reconnect_delay=1,ctrl_loss_tmo=-1,fast_io_fail_tmo=5,keep_alive_tmo=5,nr_io_queues=2,queue_size=64,duplicate_connect',
  );
  t.equal(buildFabricsOptions({ transport: 'loop', nqn: 'n' }), 'transport=loop,nqn=n');
});

t.test('option string: rejections name the option', async (t) => {
  t.throws(() => buildFabricsOptions({ ...base, reconect_delay: 1 }), { name: 'UsageError', message: /unknown connect option "reconect_delay"/ });
  t.throws(() => buildFabricsOptions({ ...base, nqn: undefined }), /"nqn" is required/);
  t.throws(() => buildFabricsOptions({ transport: 'rdma', nqn: 'n' }), /"traddr" is required for rdma/);
  t.throws(() => buildFabricsOptions({ ...base, transport: 'ib' }), /"transport": "ib" is not/);
  t.throws(() => buildFabricsOptions({ ...base, queue_size: 8 }), /"queue_size" = 8 is out of range 16..1024/);
  t.throws(() => buildFabricsOptions({ ...base, reconnect_delay: 0 }), /"reconnect_delay" = 0 is out of range/);
  t.throws(() => buildFabricsOptions({ ...base, nr_io_queues: 'lots' }), /"nr_io_queues" must be an integer/);
  t.throws(() => buildFabricsOptions({ ...base, ctrl_loss_tmo: 1.5 }), /"ctrl_loss_tmo" must be an integer/);
  t.throws(() => buildFabricsOptions({ ...base, hostnqn: 'a,b' }), /"hostnqn" .* without ','/);
  t.throws(() => buildFabricsOptions({ ...base, duplicate_connect: 1 }), /is a flag/);
});

t.test('the kernel answer', async (t) => {
  t.same(parseFabricsAnswer('instance=3,cntlid=1\n'), { device: 'nvme3', instance: 3, cntlid: 1 });
  t.throws(() => parseFabricsAnswer('\n'), /unexpected answer/);
});

t.test('connect through a FabricsPort; errors say why', async (t) => {
  let seen = '';
  const ok: FabricsPort = {
    connect: async (o) => {
      seen = o;
      return 'instance=0,cntlid=5\n';
    },
  };
  const c = await connectController(ok, { ...base, reconnect_delay: 1 });
  t.same(c, { device: 'nvme0', instance: 0, cntlid: 5, options: seen });
  t.equal(seen, 'transport=rdma,traddr=10.0.0.1,trsvcid=4420,nqn=testnqn,reconnect_delay=1');

  const failing = (code: string): FabricsPort => ({
    connect: async () => {
      throw Object.assign(new Error(code), { code });
    },
  });
  await t.rejects(connectController(failing('EALREADY'), base), /EALREADY: already connected to testnqn at rdma:\/\/10.0.0.1:4420/);
  await t.rejects(connectController(failing('ECONNREFUSED'), base), /nothing accepts testnqn/);
  await t.rejects(connectController(failing('EINVAL'), base), { name: 'ConfigfsError', message: /connecting through \/dev\/nvme-fabrics with "transport=rdma,.*" failed: EINVAL/ });
  let called = false;
  await t.rejects(
    connectController({ connect: async () => ((called = true), '') }, { ...base, bogus: 1 }),
    /unknown connect option "bogus"/,
  );
  t.notOk(called, 'nothing written for a bad option');
});

t.test('wait for live, list, disconnect (sysfs in memory)', async (t) => {
  const fs = new MemConfigfs();
  const dir = '/sys/class/nvme/nvme0';
  fs.seedFile(`${dir}/state`, 'connecting');
  fs.seedFile(`${dir}/transport`, 'rdma');
  fs.seedFile(`${dir}/address`, 'traddr=10.0.0.1,trsvcid=4420');
  fs.seedFile(`${dir}/subsysnqn`, 'testnqn');
  fs.seedFile(`${dir}/cntlid`, '5');
  fs.seedFile(`${dir}/delete_controller`, '');
  const states: (string | undefined)[] = [];
  setTimeout(() => fs.seedFile(`${dir}/state`, 'live'), 80);
  await waitControllerState(fs, 'nvme0', { deadlineMs: 2000, onState: (s) => states.push(s) });
  t.same(states, ['connecting', 'live']);
  t.same(await listControllers(fs), [
    { device: 'nvme0', state: 'live', transport: 'rdma', address: 'traddr=10.0.0.1,trsvcid=4420', subsysnqn: 'testnqn', cntlid: 5 },
  ]);
  fs.seedFile(`${dir}/state`, 'resetting');
  await t.rejects(waitControllerState(fs, 'nvme0', { deadlineMs: 60 }), { name: 'DeadlineError', message: /nvme0 to be live \(last state: resetting\)/ });
  setTimeout(() => fs.remove(dir), 40);
  await t.rejects(waitControllerState(fs, 'nvme0', { deadlineMs: 2000 }), /nvme0 disappeared/);
  t.equal(await controllerState(fs, 'nvme0'), undefined);
  await disconnectController(fs, 'nvme0'); // gone already: fine
  fs.seedFile(`${dir}/state`, 'live');
  fs.seedFile(`${dir}/delete_controller`, '');
  await disconnectController(fs, 'nvme0');
  t.ok(fs.log.includes(`write ${dir}/delete_controller = 1`));
  t.same(await listControllers(new MemConfigfs()), []);
});

t.test('connectAndWaitLive', async (t) => {
  const fs = new MemConfigfs();
  const port: FabricsPort = {
    connect: async () => {
      fs.seedFile('/sys/class/nvme/nvme2/state', 'live');
      return 'instance=2,cntlid=1';
    },
  };
  const c = await connectAndWaitLive(port, fs, base, { deadlineMs: 500 });
  t.equal(c.device, 'nvme2');
});

const fifoDir = mkdtempSync(path.join(tmpdir(), 'rb-fabrics-'));
t.teardown(() => rmSync(fifoDir, { recursive: true, force: true }));
const fifo = path.join(fifoDir, 'nvme-fabrics');
const mk = await execa('mkfifo', [fifo], { reject: false });

t.test(
  'fabricsConnectInGuest writes and reads on one fd (a FIFO stands in for the device)',
  { skip: mk.exitCode !== 0 ? `mkfifo failed: ${mk.stderr}` : false },
  async (t) => {
    t.equal(await fabricsConnectInGuest('instance=1,cntlid=2', fifo), 'instance=1,cntlid=2', 'what was written on the fd is read back from it');
    await t.rejects(fabricsConnectInGuest('x', path.join(fifoDir, 'missing')), { code: 'ENOENT' });
  },
);

t.test('briefError: the errno in brief, by the kernel\'s name where libuv has none', async (t) => {
  t.equal(briefError(new Error('connecting through /dev/nvme-fabrics with "transport=rdma,traddr=10.99.0.1" failed: ECONNRESET: hint')), 'ECONNRESET');
  t.equal(briefError(new Error('connecting through /dev/nvme-fabrics with "transport=rdma,traddr=10.99.0.1,hostnqn=nqn.x" failed: Unknown system error -102: hint')), 'ENETRESET', "nvme-rdma's answer when a removal ends its connect");
  t.equal(errnoName(-104), 'ECONNRESET');
  t.equal(errnoName(100_000), undefined);
  t.equal(briefError(new Error('x failed: Unknown system error -100000')), 'errno -100000');
});
