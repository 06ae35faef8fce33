// two-ctrl and discovery-persistent without a VM: the target's second subsystem, the
// field's errors, the phases picked and the verdict on every controller.
import t from 'tap';
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
  t.same(names, ['boot', 'target', 'instrument', 'connect', 'load', 'resets', 'watch', 'finish', 'collect', 'leak-scan', 'judge', 'controllers', 'shutdown']);
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
