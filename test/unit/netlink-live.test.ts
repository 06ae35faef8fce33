// The real kernel: rtnetlink in a private network namespace on a veth pair, checked
// against iproute2; uevents in that namespace; NETLINK_RDMA if it opens here.
// Skips with a reason when not root or namespaces are not permitted.
import t from 'tap';
import { execa } from 'execa';
import { RdmaNl, Rtnl, UeventMonitor, type Uevent } from '../../src/orchestrate/netlink/index.js';
import { listIpv4, listLinks } from '../helpers/rtnl-dumps.js';

const NS = `rbnl${process.pid}`;
const NSPATH = `/run/netns/${NS}`;

async function ip(...args: string[]): Promise<string> {
  return (await execa('ip', args)).stdout;
}
async function ipJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ip('-n', NS, '-j', ...args)) as T;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let skip: string | false = false;
if (process.getuid?.() !== 0) skip = 'needs root';
else {
  const r = await execa('ip', ['netns', 'add', NS], { reject: false });
  if (r.exitCode !== 0) skip = `ip netns add failed: ${r.stderr.trim()}`;
}

t.teardown(async () => {
  if (!skip) await execa('ip', ['netns', 'del', NS], { reject: false });
});

t.test('rtnetlink in a netns, checked with iproute2', { skip }, async (t) => {
  const uevents: Uevent[] = [];
  const umon = UeventMonitor.open({ netns: NSPATH });
  umon.start((e) => uevents.push(e));
  await sleep(50);
  await ip('-n', NS, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  const r = Rtnl.open({ netns: NSPATH });
  t.teardown(() => r.close());

  // the link decoder matches ip -j link
  const mine = await listLinks(r);
  const theirs = await ipJson<{ ifindex: number; ifname: string; mtu: number; address: string }[]>('link');
  t.same(
    mine.map((l) => [l.index, l.name, l.mtu, l.address]).sort(),
    theirs.map((l) => [l.ifindex, l.ifname, l.mtu, l.address]).sort(),
    'links, indexes, mtu and MAC agree with ip -j link',
  );
  const va = await r.getLink('va');
  t.equal(va.kind, 'veth');
  t.equal(va.up, false);

  // up, va's MTU set in the same request (as the lab's jumbo frames are restored)
  await r.setLinkUp('va', true, 9000);
  t.equal((await r.getLink('va')).mtu, 9000, 'the MTU set with the link up');
  await r.setLinkUp('vb', true);
  await sleep(100);
  const [shown] = await ipJson<{ flags: string[]; operstate: string }[]>('link', 'show', 'va');
  t.ok(shown!.flags.includes('UP'), 'ip shows va UP');
  t.equal(shown!.operstate, 'UP');
  t.equal((await r.getLink('va')).operstate, 'UP', 'netlink agrees');

  // addresses
  await r.addAddr('va', '192.0.2.1/24');
  await r.addAddr('va', '198.51.100.7/32');
  const [a] = await ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>('addr', 'show', 'va');
  const v4 = a!.addr_info.filter((x) => x.family === 'inet');
  t.same(
    v4.map((x) => `${x.local}/${x.prefixlen}`).sort(),
    ['192.0.2.1/24', '198.51.100.7/32'],
    'ip shows both addresses',
  );
  t.same((await listIpv4(r, va.index)).sort(), ['192.0.2.1/24', '198.51.100.7/32'], 'the netlink dump agrees');
  await t.rejects(r.addAddr('va', '192.0.2.1/24'), { code: 'EEXIST', message: /already/ });
  await r.addAddr('va', '192.0.2.1/24', { ifExists: 'ok' });

  // down
  await r.setLinkUp('va', false);
  await sleep(100);
  const [down] = await ipJson<{ flags: string[]; operstate: string }[]>('link', 'show', 'va');
  t.notOk(down!.flags.includes('UP'));
  t.equal(down!.operstate, 'DOWN');
  const vb = await r.getLink('vb');
  t.equal(vb.operstate, 'LOWERLAYERDOWN', 'the peer sees its lower layer go down');

  await t.rejects(r.getLink('nosuch0'), { code: 'ENODEV', message: /no network interface named "nosuch0"/ });
  await t.rejects(r.setLinkUp('nosuch0', true), { code: 'ENODEV' });

  await sleep(200);
  await umon.stop();
  t.ok(
    uevents.some((e) => e.action === 'add' && e.subsystem === 'net' && e.env.INTERFACE === 'va'),
    'uevent monitor in the namespace saw add@.../net/va',
  );
});

t.test('virtual links: added and deleted by rtnetlink, as ip sees them', { skip }, async (t) => {
  const r = Rtnl.open({ netns: NSPATH });
  t.teardown(() => r.close());
  // The lab uses dummy; this machine's kernel may lack it, a bridge is as virtual.
  await r.addLink('rbvirt0', 'bridge');
  const [shown] = await ipJson<{ ifname: string; linkinfo?: { info_kind: string } }[]>('-d', 'link', 'show', 'rbvirt0');
  t.equal(shown!.linkinfo?.info_kind, 'bridge', 'ip -d shows the kind asked for');
  t.equal((await r.getLink('rbvirt0')).kind, 'bridge', 'netlink agrees');
  await t.rejects(r.addLink('rbvirt0', 'bridge'), { code: 'EEXIST', message: /exists already/ });
  await r.delLink('rbvirt0');
  await t.rejects(r.getLink('rbvirt0'), { code: 'ENODEV' }, 'gone after delLink');
  await t.rejects(r.delLink('rbvirt0'), { code: 'ENODEV' });
  await t.rejects(r.addLink('rbvirt1', 'nosuchkind'), { code: 'ENOTSUP', message: /no "nosuchkind" link type/ });
});

let rdma: RdmaNl | undefined;
let rdmaSkip: string | false = false;
try {
  rdma = RdmaNl.open();
} catch (e) {
  rdmaSkip = `NETLINK_RDMA not available on this host: ${(e as Error).message}`;
}

t.test('NETLINK_RDMA missing is explained', { skip: rdma ? 'NETLINK_RDMA opens here' : false }, async (t) => {
  t.match(String(rdmaSkip), /ib_core is not loaded/);
});

t.test('NETLINK_RDMA device dump if it opens here', { skip: rdmaSkip }, async (t) => {
  const nl = rdma!;
  const devs = await nl.listDevices();
  t.ok(Array.isArray(devs));
  for (const d of devs) t.type(d.name, 'string');
  await nl.close();
});
