// nvmet apply (read back by the tests' reader) against the in-memory configfs
// (MemConfigfs), which enforces configfs's and nvmet's ordering rules.
import t from 'tap';
import { applyTarget, ConfigfsError, NVMET_ROOT, type TargetConfigInput } from '../../src/orchestrate/configfs/index.js';
import { MemConfigfs } from '../helpers/memfs.js';
import { readTarget } from '../helpers/read-target.js';

const R = NVMET_ROOT;
const HOST = 'nqn.2014-08.org.nvmexpress:uuid:host-a';

const config = (): TargetConfigInput => ({
  subsystems: [
    {
      nqn: 'testnqn',
      allowedHosts: [HOST],
      attrs: { serial: 'rb0001' },
      namespaces: [{ nsid: 1, path: '/dev/nullb0', backing: 'null_blk', uuid: '11111111-2222-3333-4444-555555555555' }],
    },
    { nqn: 'open', allowAnyHost: true, namespaces: [{ nsid: 7, path: '/tmp/img', backing: 'file' }] },
  ],
  ports: [
    { portid: 1, trtype: 'rdma', adrfam: 'ipv4', traddr: '10.0.0.1', trsvcid: '4420', subsystems: ['testnqn', 'open'] },
    { portid: 2, trtype: 'tcp', adrfam: 'ipv4', traddr: '10.0.0.1', trsvcid: '4420', subsystems: ['open'] },
  ],
});

const fresh = () => new MemConfigfs({ devices: ['/dev/nullb0', '/tmp/img'] });

t.test('apply builds everything, in an order configfs accepts', async (t) => {
  const fs = fresh();
  const r = await applyTarget(fs, config());
  t.ok(r.changes.length > 10);
  const idx = (s: string) => fs.log.findIndex((l) => l.startsWith(s));
  t.ok(idx(`mkdir ${R}/hosts/${HOST}`) < idx(`symlink ${R}/subsystems/testnqn/allowed_hosts/${HOST}`), 'host before its link');
  t.ok(idx(`write ${R}/subsystems/testnqn/namespaces/1/device_path`) < idx(`write ${R}/subsystems/testnqn/namespaces/1/enable = 1`));
  t.ok(idx(`write ${R}/ports/1/addr_traddr`) < idx(`symlink ${R}/ports/1/subsystems/testnqn`), 'address before the enabling link');
  const back = await readTarget(fs);
  t.same(back.hosts, [HOST]);
  const tn = back.subsystems.find((s) => s.nqn === 'testnqn')!;
  t.equal(tn.allowAnyHost, false);
  t.same(tn.allowedHosts, [HOST]);
  t.equal(tn.attrs.serial, 'rb0001');
  t.same(
    tn.namespaces.map((n) => [n.nsid, n.path, n.enable, n.uuid]),
    [[1, '/dev/nullb0', true, '11111111-2222-3333-4444-555555555555']],
  );
  t.equal(back.subsystems.find((s) => s.nqn === 'open')!.allowAnyHost, true);
  t.same(
    back.ports.map((p) => [p.portid, p.trtype, p.adrfam, p.traddr, p.trsvcid, p.treq, p.subsystems]),
    [
      [1, 'rdma', 'ipv4', '10.0.0.1', '4420', 'not specified', ['open', 'testnqn']],
      [2, 'tcp', 'ipv4', '10.0.0.1', '4420', 'not specified', ['open']],
    ],
  );
});

t.test('apply is idempotent', async (t) => {
  const fs = fresh();
  await applyTarget(fs, config());
  const n = fs.log.length;
  const again = await applyTarget(fs, config());
  t.same(again.changes, [], 'second apply changes nothing');
  t.equal(fs.log.length, n);
});

t.test('apply converges: port address change while linked, namespace path change, hosts <-> any', async (t) => {
  const fs = fresh();
  await applyTarget(fs, config());
  const c = config();
  c.ports![0]!.traddr = '10.0.0.2';
  c.subsystems![0]!.namespaces![0] = { nsid: 1, path: '/tmp/img' };
  c.subsystems![0]!.allowedHosts = [];
  c.subsystems![0]!.allowAnyHost = true;
  c.subsystems![1]!.namespaces = [];
  const before = fs.log.length;
  await applyTarget(fs, c);
  const log = fs.log.slice(before);
  const at = (s: string) => log.findIndex((l) => l.startsWith(s));
  t.ok(at(`unlink ${R}/ports/1/subsystems/`) >= 0 && at(`unlink ${R}/ports/1/subsystems/`) < at(`write ${R}/ports/1/addr_traddr = 10.0.0.2`), 'unlinked before the address changed');
  t.ok(at(`symlink ${R}/ports/1/subsystems/testnqn`) > at(`write ${R}/ports/1/addr_traddr`), 'relinked after');
  t.ok(at(`write ${R}/subsystems/testnqn/namespaces/1/enable = 0`) < at(`write ${R}/subsystems/testnqn/namespaces/1/device_path = /tmp/img`));
  t.ok(at(`unlink ${R}/subsystems/testnqn/allowed_hosts/`) < at(`write ${R}/subsystems/testnqn/attr_allow_any_host = 1`));
  t.ok(at(`rmdir ${R}/subsystems/open/namespaces/7`) >= 0, 'unlisted namespace removed');
  const back = await readTarget(fs);
  t.equal(back.ports[0]!.traddr, '10.0.0.2');
  t.same(back.subsystems.find((s) => s.nqn === 'testnqn')!.namespaces[0]!.path, '/tmp/img');
  t.same((await applyTarget(fs, c)).changes, []);
});

t.test('bad input is refused before configfs is touched', async (t) => {
  const fs = fresh();
  const dup = config();
  dup.ports![1] = { ...dup.ports![0]!, portid: 3 };
  await t.rejects(applyTarget(fs, dup), { name: 'UsageError', message: /duplicate port: port 1 already listens on rdma 10.0.0.1:4420/ });
  const dupId = config();
  dupId.ports![1]!.portid = 1;
  await t.rejects(applyTarget(fs, dupId), /duplicate port id 1/);
  const unknown = config();
  unknown.ports![0]!.subsystems = ['nope'];
  await t.rejects(applyTarget(fs, unknown), /links unknown subsystem nope/);
  const both = config();
  both.subsystems![0]!.allowAnyHost = true;
  await t.rejects(applyTarget(fs, both), /allowAnyHost and allowedHosts exclude each other/);
  const badAddr = config();
  badAddr.ports![0]!.traddr = '10.0.0.300';
  await t.rejects(applyTarget(fs, badAddr), /traddr "10.0.0.300" is not an IPv4 address/);
  const badType = config() as { ports: { trtype: string }[] };
  badType.ports[0]!.trtype = 'infiniband';
  await t.rejects(applyTarget(fs, badType), { name: 'UsageError', message: /ports\[0\]\.trtype/ });
  const slash = config();
  slash.subsystems![0]!.nqn = 'a/b';
  await t.rejects(applyTarget(fs, slash), /cannot contain "\/"/);
  const nb = config();
  nb.subsystems![0]!.namespaces![0]!.path = '/dev/vdb';
  await t.rejects(applyTarget(fs, nb), /null_blk namespace's path is \/dev\/nullbN/);
  t.same(fs.log, [], 'nothing was written');
});

t.test('kernel errors name the attribute and the cause', async (t) => {
  // a missing device
  const fs = new MemConfigfs({ devices: [] });
  const err = await applyTarget(fs, { subsystems: [{ nqn: 's', allowAnyHost: true, namespaces: [{ nsid: 1, path: '/dev/nullb0' }] }] }).catch((e) => e);
  t.type(err, ConfigfsError);
  t.match(err.message, /writing "1" to .*\/namespaces\/1\/enable failed: ENOENT: device_path does not exist/);

  // a port already listening on the address, outside this config (EADDRINUSE)
  const fs2 = fresh();
  await applyTarget(fs2, config());
  const err2 = await applyTarget(fs2, {
    subsystems: [{ nqn: 'other', allowAnyHost: true }],
    ports: [{ portid: 9, trtype: 'rdma', adrfam: 'ipv4', traddr: '10.0.0.1', trsvcid: '4420', subsystems: ['other'] }],
  }).catch((e) => e);
  t.match(err2.message, /linking .*ports\/9\/subsystems\/other .* failed: EADDRINUSE: .*duplicate port/);

  // address not in the guest
  const fs3 = new MemConfigfs({ addresses: ['10.0.0.5'] });
  const err3 = await applyTarget(fs3, {
    subsystems: [{ nqn: 's', allowAnyHost: true }],
    ports: [{ portid: 1, trtype: 'rdma', adrfam: 'ipv4', traddr: '10.0.0.1', subsystems: ['s'] }],
  }).catch((e) => e);
  t.match(err3.message, /EADDRNOTAVAIL: .*traddr is not an address of this guest/);

  // nvmet not loaded
  const fs4 = new MemConfigfs({ root: '/nowhere/nvmet' });
  await t.rejects(applyTarget(fs4, config()), /modprobe nvmet/);
});

t.test('the fake follows configfs rules (so the order tests mean something)', async (t) => {
  const fs = fresh();
  await applyTarget(fs, config());
  await t.rejects(fs.rmdir(`${R}/subsystems/testnqn`), { code: 'EBUSY' }, 'linked from a port');
  await t.rejects(fs.writeFile(`${R}/ports/1/addr_traddr`, '1.2.3.4'), { code: 'EACCES' });
  await t.rejects(fs.writeFile(`${R}/subsystems/testnqn/namespaces/1/device_path`, '/x'), { code: 'EBUSY' });
  await t.rejects(fs.writeFile(`${R}/subsystems/testnqn/attr_allow_any_host`, '1'), { code: 'EINVAL' });
  await fs.unlink(`${R}/ports/1/subsystems/testnqn`);
  await t.rejects(fs.rmdir(`${R}/subsystems/testnqn`), { code: 'ENOTEMPTY' }, 'has namespaces and hosts');
  await t.rejects(fs.rmdir(`${R}/hosts/${HOST}`), { code: 'EBUSY' });
});
