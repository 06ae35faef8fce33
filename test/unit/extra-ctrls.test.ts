// two-ctrl and discovery-persistent without a VM: the target's second subsystem, the
// field's errors, the phases picked and the verdict on every controller.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario } from '../../src/scenario/runner.js';
import { FakeLab, type FakeLabOptions } from '../helpers/fake-lab.js';
import { DISCOVERY_NQN, extraTargetConfig, nqnOf, SECOND_NQN } from '../../src/orchestrate/extra-ctrls.js';
import { LAB_NQN } from '../../src/orchestrate/nvme-lab.js';
import { findScenario } from '../../src/scenario/catalog.js';
import type { Judgement } from '../../src/scenario/context.js';
import { judgeExtra } from '../../src/scenario/phases/extra-ctrls.js';
import { planFor } from '../../src/scenario/phases/plan.js';
import { parseScenario } from '../../src/scenario/spec.js';

t.test('two-ctrl: a second subsystem on /dev/ram1 behind the same port', async (t) => {
  const c = extraTargetConfig({ targetAddr: '10.99.0.1' }, ['subsystem']);
  t.same(c.subsystems?.map((s) => [s.nqn, s.namespaces?.[0]?.path]), [[LAB_NQN, '/dev/ram0'], [SECOND_NQN, '/dev/ram1']]);
  t.same(c.ports?.map((p) => p.subsystems), [[LAB_NQN, SECOND_NQN]]);
  t.same(extraTargetConfig({ targetAddr: '10.99.0.1' }, ['discovery']).subsystems?.length, 1, 'discovery needs no subsystem: nvmet serves it on every port');
  t.equal(nqnOf('discovery'), DISCOVERY_NQN);
  t.equal(DISCOVERY_NQN, 'nqn.2014-08.org.nvmexpress.discovery');
});

t.test('extra_controllers: each kind once, not on pair2 or with a racing connect', async (t) => {
  const base = { name: 'x', side: 'host', reset: 'rdma-link' };
  t.same(parseScenario({ ...base, extra_controllers: ['subsystem', 'discovery'] }).extra_controllers, ['subsystem', 'discovery']);
  t.throws(() => parseScenario({ ...base, extra_controllers: ['subsystem', 'subsystem'] }), /extra_controllers: each kind once/);
  t.throws(() => parseScenario({ ...base, topology: 'pair2', extra_controllers: ['discovery'] }), /extra_controllers: only with topology pair or loopback/);
  t.throws(() => parseScenario({ ...base, extra_controllers: ['namespace'] }), /extra_controllers\[0\]/);
});

t.test('the phases: the target and connect with the extra controllers, and their verdict after judge', async (t) => {
  const names = planFor(findScenario('two-ctrl')).map((p) => p.name);
  t.same(names, ['boot', 'target', 'instrument', 'connect', 'load', 'extra-connect', 'resets', 'watch', 'finish', 'extra-settle', 'collect', 'leak-scan', 'judge', 'controllers', 'shutdown'], 'the in-flight phases are in the row and apply only with extra_in_flight_ms');
  t.same(findScenario('discovery-persistent').extra_controllers, ['discovery']);
});

const pass: Judgement = {
  verdict: 'PASS',
  reason: 'I/O resumed 0.01 s after the device came back',
  metrics: { outage_ms: 4300, recovery_ms: 10, ctrl_live_ms: 0, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 },
};

t.test('every extra controller live: PASS with what became of each', async (t) => {
  const j = judgeExtra(pass, [{ kind: 'subsystem', device: 'nvme1', state: 'live' }]);
  t.equal(j.verdict, 'PASS');
  t.match(j.reason, /; also: nvme1 \(second subsystem\) live$/);
});

t.test('an extra controller lost: FAIL naming it; a FAIL keeps its own reason first', async (t) => {
  const lost = judgeExtra(pass, [{ kind: 'discovery', device: 'nvme1', state: 'deleted' }]);
  t.equal(lost.verdict, 'FAIL');
  t.match(lost.reason, /^discovery controller nvme1 deleted; also: nvme1 \(discovery\) deleted$/);
  const connecting = judgeExtra(pass, [{ kind: 'subsystem', device: 'nvme1', state: 'connecting' }]);
  t.match(connecting.reason, /^subsystem controller nvme1 connecting/);
  const fail = judgeExtra({ ...pass, verdict: 'FAIL', reason: 'controller nvme0 deleted' }, [{ kind: 'subsystem', device: 'nvme1', state: 'deleted' }]);
  t.match(fail.reason, /^controller nvme0 deleted; also: nvme1 \(second subsystem\) deleted$/);
});

t.test('extra_in_flight_ms: only with extra_controllers, and a short lead', async (t) => {
  const base = { name: 'x', side: 'host', reset: 'rdma-link' };
  t.equal(parseScenario({ ...base, extra_controllers: ['subsystem'], extra_in_flight_ms: 150 }).extra_in_flight_ms, 150);
  t.throws(() => parseScenario({ ...base, extra_in_flight_ms: 150 }), /extra_in_flight_ms: only with extra_controllers/);
  t.throws(() => parseScenario({ ...base, extra_controllers: ['subsystem'], extra_in_flight_ms: 20_000 }), /extra_in_flight_ms/);
  t.equal(findScenario('two-ctrl-connecting').extra_in_flight_ms, 150);
});

t.test('two-ctrl-connecting: the extra connect starts right before the resets and is settled after finish', async (t) => {
  const names = planFor(findScenario('two-ctrl-connecting')).map((p) => p.name);
  t.same(names, ['boot', 'target', 'instrument', 'connect', 'load', 'extra-connect', 'resets', 'watch', 'finish', 'extra-settle', 'collect', 'leak-scan', 'judge', 'controllers', 'shutdown']);
});

t.test('a controller left behind fails a PASS; the note says what the cut-short connect came to', async (t) => {
  const end = { kind: 'subsystem' as const, device: 'nvme2', state: 'live', note: 'connect in flight at the reset: refused (ECONNRESET); a new connect live' };
  const ok = judgeExtra(pass, [end]);
  t.equal(ok.verdict, 'PASS');
  t.match(ok.reason, /nvme2 \(second subsystem\) live \[connect in flight at the reset: refused \(ECONNRESET\); a new connect live\]$/);
  const left = judgeExtra(pass, [end], ['nvme1']);
  t.equal(left.verdict, 'FAIL');
  t.match(left.reason, /^controllers left behind: nvme1; also: .*; left behind: nvme1$/);
});

async function runInFlight(lab: FakeLabOptions) {
  const fake = new FakeLab({ onReset: 'recovers', ...lab });
  const spec = parseScenario({ name: 'q', side: 'host', reset: 'rdma-link', down_ms: 300, pre_ms: 500, post_ms: 500, recovery_deadline_ms: 1000, extra_controllers: ['subsystem'], extra_in_flight_ms: 50 });
  const said: string[] = [];
  const r = await runScenario(spec, { kernel: 'patched', resultsDir: mkdtempSync(join(tmpdir(), 'rb-extra-')), iteration: 1, project: '/project', progress: (m) => said.push(m) }, fake.driver());
  return { r, fake, said };
}

t.test('fake lab: the connect cut short is refused, a new connect after the device is back works: PASS, recorded as the scenario\'s action', async (t) => {
  const { r, fake, said } = await runInFlight({ connectWhileDown: 'refuse', connectMs: 150 });
  t.equal(r.verdict, 'PASS', r.reason);
  t.match(r.reason, /also: nvme\d \(second subsystem\) live \[connect in flight at the reset: refused \(ECONNRESET\); a new connect live\]/);
  t.ok(said.some((m) => /connecting subsystem; the device goes in 50 ms/.test(m)));
  t.equal(fake.host.agent.ops('fabrics.connect').length, 3, 'the loaded controller, the cut-short one, the new one');
  t.same(fake.host.agent.guard.refused, [], 'the new connect is allowed, not refused');
  t.ok(fake.host.agent.guard.scripted.some((g) => /a new connect of the subsystem controller/.test(g.what)));
  t.ok(r.phases_ms?.['extra-connect'] !== undefined && r.phases_ms['extra-settle'] !== undefined);
});

t.test('fake lab: the connect held across the outage is accepted and comes live by itself', async (t) => {
  const { r, fake } = await runInFlight({ connectWhileDown: 'block', connectMs: 150 });
  t.equal(r.verdict, 'PASS', r.reason);
  t.match(r.reason, /\(second subsystem\) live \[connect in flight at the reset: accepted\]/);
  t.equal(fake.host.agent.ops('fabrics.connect').length, 2, 'no new connect');
});

t.test('fake lab: a connect done before the reset says so', async (t) => {
  const { r } = await runInFlight({ connectMs: 5 });
  t.match(r.reason, /\[connect connected before the reset: accepted\]/);
});
