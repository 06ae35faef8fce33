// The pair2 topology and its multipath scenarios, without a VM: the links' names and
// addresses, the scenario's paths fields and their errors, which devices a reset takes,
// the target's ports, the phases picked, and the per-path verdict.
import t from 'tap';
import { parseTargetConfig } from '../../src/orchestrate/configfs/model.js';
import { pathsTargetConfig } from '../../src/orchestrate/paths-lab.js';
import { findScenario } from '../../src/scenario/catalog.js';
import type { Judgement } from '../../src/scenario/context.js';
import { judgePaths, type PathEnd } from '../../src/scenario/phases/paths.js';
import { planFor } from '../../src/scenario/phases/plan.js';
import { onSites, resetSites } from '../../src/scenario/real-lab.js';
import type { RdmaSite } from '../../src/reset/types.js';
import { parseScenario, PathsSpec } from '../../src/scenario/spec.js';
import type { Machine } from '../../src/vm/machine.js';
import { kernelAppend } from '../../src/vm/qemu-args.js';
import { labLink, LINK_COUNT, type Lab } from '../../src/vm/topology.js';

/** A scenario's paths field as its schema fills it in (both links rdma, no stagger). */
const pathsOf = (connect: number[], reset: number[]): PathsSpec => PathsSpec.parse({ connect, reset });

t.test('pair2 has two links: eth<i> on 10.99.<i>.0/24, target .1, host .2', async (t) => {
  t.equal(LINK_COUNT.pair2, 2);
  t.same(labLink('pair2', 1), { index: 1, netdev: 'eth1', nicId: 'nic1', targetAddr: '10.99.1.1', hostAddr: '10.99.1.2' });
  t.equal(labLink('loopback', 0).hostAddr, '10.99.0.1', 'loopback: one VM, the target address');
  const append = kernelAppend({ modulesDir: '/m', project: '/p', hostname: 'h', role: 'host', ip: '10.99.0.2/24', moreIps: ['10.99.1.2/24'] });
  t.match(append, /rb\.ip=10\.99\.0\.2\/24 rb\.ip1=10\.99\.1\.2\/24/, 'eth1 configured by vm/init from rb.ip1');
});

t.test('paths: defaults on pair2, refused elsewhere, reset only connected links, no module-reload', async (t) => {
  const base = { name: 'm', topology: 'pair2', side: 'host', reset: 'rdma-link' };
  t.same(parseScenario(base).paths, { connect: [0, 1], reset: [0], transports: ['rdma', 'rdma'], stagger_ms: 0 });
  t.equal(parseScenario({ ...base, topology: 'pair' }).paths, undefined);
  t.throws(() => parseScenario({ ...base, topology: 'pair', paths: { reset: [1] } }), /paths: only with topology: pair2/);
  t.throws(() => parseScenario({ ...base, paths: pathsOf([1], [0]) }), /paths\.reset: link 0 is reset but not connected/);
  t.throws(() => parseScenario({ ...base, paths: { connect: [0, 0] } }), /paths\.connect: a link may be connected once/);
  t.throws(() => parseScenario({ ...base, paths: { reset: [2] } }), /paths\.reset\[0\]: Too big/);
  t.throws(() => parseScenario({ ...base, reset: 'module-reload' }), /reset: module-reload takes every rxe device/);
  t.throws(() => parseScenario({ ...base, during: 'connect' }), /during: not with topology: pair2/);
  t.throws(() => parseScenario({ ...base, paths: { reset: [1], transports: ['rdma', 'tcp'] } }), /paths\.reset: link 1 carries nvme-tcp: it has no RDMA device to reset/);
  t.throws(() => parseScenario({ ...base, paths: { reset: [0, 1], stagger_ms: 5000 } }), /paths\.stagger_ms: must be less than down_ms \(4000\)/);
  t.throws(() => parseScenario({ ...base, paths: { transports: ['tcp'] } }), /paths\.transports/);
});

const vm = (name: string, nics: number): Machine =>
  ({ name, opts: { nics: Array.from({ length: nics }, (_, i) => ({ id: `nic${i}`, mac: 'm', link: { kind: 'hub', hubId: 0 }, rootPort: `rp${i + 1}` })) } }) as unknown as Machine;

function fakeLab(kind: 'pair' | 'pair2'): Lab {
  const links = Array.from({ length: LINK_COUNT[kind] }, (_, i) => labLink(kind, i));
  const host = vm('host', links.length);
  const target = vm('target', links.length);
  return { kind, host, target, machines: [target, host], links, targetAddr: '10.99.0.1', hostAddr: '10.99.0.2' } as unknown as Lab;
}

t.test('a pair2 reset takes only the named path\'s device, on the side(s) named', async (t) => {
  const lab = fakeLab('pair2');
  const host1 = resetSites(lab, { side: 'host', paths: pathsOf([0, 1], [1]) });
  t.same(host1.map((s) => [s.vm.name, s.netdev, s.rxe, s.cidr, s.nicId]), [['host', 'eth1', 'rxe1', '10.99.1.2/24', 'nic1']]);
  const both = resetSites(lab, { side: 'both', paths: pathsOf([0, 1], [0, 1]) });
  t.same(both.map((s) => `${s.vm.name}:${s.rxe}`), ['target:rxe0', 'host:rxe0', 'target:rxe1', 'host:rxe1']);
  const pair = resetSites(fakeLab('pair'), { side: 'target' });
  t.same(pair.map((s) => [s.vm.name, s.netdev, s.rxe, s.cidr]), [['target', 'eth0', 'rxe0', '10.99.0.1/24']], 'pair: as before');
});

t.test('staggered resets go link by link, the sites of one link together; no stagger: all at once', async (t) => {
  const sites = [
    { netdev: 'eth0', rxe: 'target0' },
    { netdev: 'eth0', rxe: 'host0' },
    { netdev: 'eth1', rxe: 'target1' },
  ] as unknown as RdmaSite[];
  const at = async (stagger: number) => {
    const t0 = Date.now();
    const seen: [string, number][] = [];
    await onSites(sites, stagger, async (s) => void seen.push([s.rxe, Date.now() - t0]));
    return seen;
  };
  const staggered = await at(300);
  t.same(staggered.map(([n]) => n), ['target0', 'host0', 'target1']);
  t.ok(staggered[1]![1] < 100 && staggered[2]![1] >= 290, `link 1 after the stagger: ${JSON.stringify(staggered)}`);
  const together = await at(0);
  t.ok(together.every(([, ms]) => ms < 100), 'no stagger: every site at once');
});

t.test('the target exports the namespace on a port per link', async (t) => {
  const c = parseTargetConfig(pathsTargetConfig([labLink('pair2', 0), labLink('pair2', 1)]));
  t.same(c.ports.map((p) => [p.portid, p.traddr]), [[1, '10.99.0.1'], [2, '10.99.1.1']]);
  t.equal(c.subsystems.length, 1);
  t.ok(c.ports.every((p) => p.subsystems.length === 1 && p.subsystems[0] === c.subsystems[0]!.nqn), 'both ports link the one subsystem');
  t.same(parseTargetConfig(pathsTargetConfig([labLink('pair2', 0), labLink('pair2', 1)], ['rdma', 'tcp'])).ports.map((p) => p.trtype), ['rdma', 'tcp'], 'tcp-rdma-mixed: a tcp port on link 1');
});

t.test('a multipath scenario\'s phases: target and connect per path, the path verdict after judge', async (t) => {
  const names = planFor(findScenario('mpath-host-rdma-link')).map((p) => p.name);
  t.same(names, ['boot', 'target', 'instrument', 'connect', 'load', 'resets', 'watch', 'finish', 'collect', 'leak-scan', 'judge', 'paths', 'shutdown']);
  t.notOk(planFor(findScenario('host-rdma-link')).some((p) => p.name === 'paths'), 'not on pair');
});

const pass: Judgement = {
  verdict: 'PASS',
  reason: 'I/O resumed 0.01 s after the device came back',
  metrics: { outage_ms: 300, recovery_ms: 10, ctrl_live_ms: 200, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 },
};
const spec = { down_ms: 4000, paths: pathsOf([0, 1], [0]) };
const ends = (s0: string, s1 = 'live'): PathEnd[] => [
  { link: 0, transport: 'rdma', device: 'nvme1', state: s0 },
  { link: 1, transport: 'rdma', device: 'nvme0', state: s1 },
];

t.test('path verdict: PASS keeps, with what became of each path', async (t) => {
  const j = judgePaths(pass, ends('live'), spec);
  t.equal(j.verdict, 'PASS');
  t.match(j.reason, /; paths: nvme1 \(link 0\) live, nvme0 \(link 1\) live; 2 of 2 paths live$/);
});

t.test('path verdict: a path left behind or I/O that waited for it is a FAIL', async (t) => {
  const gone = judgePaths(pass, ends('deleted'), spec);
  t.equal(gone.verdict, 'FAIL');
  t.match(gone.reason, /^path nvme1 deleted; paths: .* 1 of 2 paths live$/);
  const waited = judgePaths({ ...pass, metrics: { ...pass.metrics, outage_ms: 4200 } }, ends('live'), spec);
  t.equal(waited.verdict, 'FAIL');
  t.match(waited.reason, /I\/O on the head stalled 4\.20 s, as long as the device was away: it did not go over the other path/);
  const bothReset = judgePaths({ ...pass, metrics: { ...pass.metrics, outage_ms: 4200 } }, ends('live'), { ...spec, paths: pathsOf([0, 1], [0, 1]) });
  t.equal(bothReset.verdict, 'PASS', 'with every path reset, a stall is expected');
});

t.test('path verdict: a tcp path is named as such', async (t) => {
  const mixed = judgePaths(pass, [ends('live')[0]!, { link: 1, transport: 'tcp', device: 'nvme0', state: 'live' }], spec);
  t.match(mixed.reason, /nvme0 \(tcp, link 1\) live; 2 of 2/);
});

t.test('path verdict: a FAIL keeps its reason and gets the paths added', async (t) => {
  const j = judgePaths({ ...pass, verdict: 'FAIL', reason: 'controller nvme1 deleted 0.40 s after the device went away' }, ends('deleted'), spec);
  t.equal(j.verdict, 'FAIL');
  t.match(j.reason, /^controller nvme1 deleted 0\.40 s after the device went away; paths: nvme1 \(link 0\) deleted, nvme0 \(link 1\) live; 1 of 2 paths live$/);
});
