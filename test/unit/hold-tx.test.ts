// hold_tx (issue 12: rdma_rxe's unload with sent skbs held): the scenario field and
// its errors, the reset sites that carry it, the order of the injector's steps (the
// queue in place before the unload, let go before the reload), and the verdict's bound
// on how long the unload took.
import t from 'tap';
import { moduleReload } from '../../src/reset/module-reload.js';
import type { RdmaSite } from '../../src/reset/types.js';
import { resetSites } from '../../src/scenario/real-lab.js';
import { loadScenarioFile, parseScenario } from '../../src/scenario/spec.js';
import { decide, heldUnload } from '../../src/scenario/verdict.js';
import { computeMetrics } from '../../src/scenario/metrics.js';
import type { Machine } from '../../src/vm/machine.js';
import { labLink, type Lab } from '../../src/vm/topology.js';

t.test('hold_tx: only with module-reload, a bound with a default', async (t) => {
  const base = { name: 'h', side: 'host', reset: 'module-reload' } as const;
  t.same(parseScenario({ ...base, hold_tx: {} }).hold_tx, { unload_within_ms: 30_000 });
  t.throws(() => parseScenario({ ...base, reset: 'rdma-link', hold_tx: {} }), /hold_tx: only with reset: module-reload .*not rdma-link/);
  t.throws(() => parseScenario({ ...base, hold_tx: { unload_within_ms: 500 } }), /hold_tx\.unload_within_ms:/);
  t.throws(() => parseScenario({ ...base, hold_tx: { delay: 5 } }), /hold_tx: Unrecognized key: "delay"/);
  const [file] = await loadScenarioFile('scenarios/rxe-unload-held-skbs.yaml');
  t.same([file!.side, file!.reset, file!.hold_tx?.unload_within_ms], ['host', 'module-reload', 30_000]);
});

t.test('the reset sites carry hold_tx to the injector', async (t) => {
  const nic = { id: 'nic0', mac: 'm', link: { kind: 'hub', hubId: 0 }, rootPort: 'rp1' };
  const host = { name: 'host', opts: { nics: [nic] } } as unknown as Machine;
  const target = { name: 'target', opts: { nics: [nic] } } as unknown as Machine;
  const lab = { kind: 'pair', host, target, machines: [target, host], links: [labLink('pair', 0)] } as unknown as Lab;
  const [held] = resetSites(lab, parseScenario({ name: 'h', side: 'host', reset: 'module-reload', hold_tx: {} }));
  t.equal(held!.holdTx, true);
  t.equal(resetSites(lab, parseScenario({ name: 'p', side: 'host', reset: 'module-reload' }))[0]!.holdTx, undefined, 'plain module-reload unchanged');
});

/** A site whose agent records every command and call, in order. */
function recordingSite(holdTx: boolean): { site: RdmaSite; steps: string[] } {
  const steps: string[] = [];
  const agent = {
    check: async (argv: string[]) => void steps.push(argv.join(' ')),
    call: async (op: string, args: Record<string, unknown>) => void steps.push(`${op} ${String(args.name)}`),
    waitFor: async (path: string, test: string) => void steps.push(`waitFor ${path} ${test}`),
  };
  const site = { vm: { agent }, netdev: 'eth0', rxe: 'rxe0', cidr: '10.99.0.2/24', nicId: 'nic0', nicDevice: '', ...(holdTx ? { holdTx } : {}) } as unknown as RdmaSite;
  return { site, steps };
}

t.test('module-reload with hold_tx: the queue holds skbs before the unload and lets them go before the reload', async (t) => {
  const held = recordingSite(true);
  const start = Date.now();
  await moduleReload.trigger(held.site);
  t.ok(Date.now() - start >= 900, 'I/O goes on into the queue for a while before the unload');
  await moduleReload.restore(held.site);
  t.same(held.steps, [
    'tc qdisc replace dev eth0 root netem delay 200s limit 100000',
    'modprobe -r rdma_rxe',
    'waitFor /sys/class/infiniband/rxe0 absent',
    'tc qdisc del dev eth0 root',
    'modprobe rdma_rxe',
    'rdma.newLink rxe0',
    'waitFor /sys/class/infiniband/rxe0/ports/1/state matches',
  ]);
  const plain = recordingSite(false);
  await moduleReload.trigger(plain.site);
  await moduleReload.restore(plain.site);
  t.notOk(plain.steps.some((s) => s.startsWith('tc ')), 'no queue without hold_tx');
});

t.test('the verdict bounds the unload: longer than unload_within_ms is a FAIL saying so; else a note', async (t) => {
  const spec = parseScenario({ name: 'h', side: 'host', reset: 'module-reload', hold_tx: { unload_within_ms: 30_000 } });
  const quick = heldUnload(spec, [{ goneMs: 1000, backMs: 9000, triggerMs: 2400 }]);
  t.equal(quick.fail, undefined);
  t.equal(quick.note, "; rdma_rxe's unload with sent skbs held in the netdev's queue took 2.40 s");
  const stuck = heldUnload(spec, [{ goneMs: 1000, backMs: 60_000, triggerMs: 52_300 }]);
  t.equal(stuck.fail, "rdma_rxe's unload with sent skbs held in the netdev's queue took 52.3 s, more than unload_within_ms (30.0 s): module exit waited for the skbs");
  t.same(heldUnload(parseScenario({ name: 'p', side: 'host', reset: 'module-reload' }), [{ goneMs: 0, backMs: 1, triggerMs: 90_000 }]), { note: '' }, 'no bound without hold_tx');
});

t.test('decide: a recovered run whose unload took too long is a FAIL; a quick one PASSes with the time in its reason', async (t) => {
  const spec = parseScenario({ name: 'h', side: 'host', reset: 'module-reload', hold_tx: {} });
  const events = [{ t_ms: 0, vm: 'host', kind: 'state', key: 'nvme/nvme0', value: 'live' }, { t_ms: 8100, vm: 'host', kind: 'state', key: 'nvme/nvme0', value: 'live' }];
  const io = Array.from({ length: 1000 }, (_, i) => ({ t_ms: i * 10, completions: i * 10 >= 2000 && i * 10 < 8150 ? 0 : 5, errors: 0 }));
  const judge = (triggerMs: number) => {
    const resets = [{ goneMs: 2000, backMs: 8000, triggerMs }];
    const metrics = computeMetrics({ io, gaps: [{ startMs: 2000, endMs: 8150, open: false }], resets, events, controller: 'nvme0', endMs: 10_000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
    return decide({ spec, metrics, resets, events, controller: 'nvme0', endMs: 10_000 });
  };
  const ok = judge(1800);
  t.equal(ok.verdict, 'PASS');
  t.match(ok.reason, /^I\/O resumed .*; rdma_rxe's unload with sent skbs held in the netdev's queue took 1\.80 s$/);
  const slow = judge(31_000);
  t.equal(slow.verdict, 'FAIL');
  t.match(slow.reason, /^rdma_rxe's unload .* took 31\.0 s, more than unload_within_ms \(30\.0 s\): module exit waited for the skbs; I\/O resumed/);
});
