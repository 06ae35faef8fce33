// The whole run, phase by phase, against the fake lab: the verdicts of a patched-like
// and a stock-like kernel, a harness failure as ERROR, and phases_ms.
import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario } from '../../src/scenario/runner.js';
import { parseScenario, type ScenarioInput } from '../../src/scenario/spec.js';
import { FakeLab, type FakeLabOptions } from '../helpers/fake-lab.js';
import { tempDirSync } from '../helpers/temp-dir.js';

const quick = (over: Partial<ScenarioInput> = {}) =>
  parseScenario({ name: 'quick', side: 'host', reset: 'rdma-link', down_ms: 100, pre_ms: 500, post_ms: 500, recovery_deadline_ms: 1000, ...over });

async function run(over: Partial<ScenarioInput>, lab: FakeLabOptions) {
  const fake = new FakeLab(lab);
  const resultsDir = tempDirSync('rb-runner-');
  const lines: string[] = [];
  const r = await runScenario(quick(over), { kernel: 'patched', resultsDir, iteration: 1, project: '/project', progress: (m) => lines.push(m) }, fake.driver());
  return { r, fake, resultsDir, lines };
}

t.test('a controller that recovers: PASS, every phase timed, artifacts written, lab killed after its logs are saved', async (t) => {
  const { r, fake, resultsDir, lines } = await run({}, { onReset: 'recovers' });
  t.equal(r.verdict, 'PASS', r.reason);
  t.match(r.reason, /I\/O resumed .* after the device came back/);
  t.equal(r.kernel_info?.variant, 'patched', 'the kernel the boot phase resolved is on the record');
  t.same(Object.keys(r.phases_ms ?? {}), ['boot', 'target', 'instrument', 'connect', 'load', 'resets', 'watch', 'finish', 'collect', 'judge', 'shutdown']);
  t.ok(r.phases_ms!.load! >= 500, `load holds pre_ms (${r.phases_ms!.load} ms)`);
  t.ok(r.phases_ms!.resets! >= 100, `resets hold down_ms (${r.phases_ms!.resets} ms)`);
  t.ok(r.phases_ms!.finish! >= 500, `finish runs post_ms more (${r.phases_ms!.finish} ms)`);
  t.equal(fake.state, 'killed');
  t.same(fake.resetLog, ['gone host', 'back host']);
  t.ok(r.markers.device_gone_ms! < r.markers.device_back_ms!);
  t.equal(r.metrics.io_errors, 0);
  t.ok(r.metrics.recovery_ms !== null && r.metrics.recovery_ms < 500, `recovery ${r.metrics.recovery_ms} ms`);
  t.ok(r.io.length > 50, 'the I/O series is on the result');
  t.ok(r.events.some((e) => e.kind === 'state' && e.key === 'nvme/nvme0' && e.value === 'connecting'), 'guest timeline collected');
  t.ok(existsSync(join(resultsDir, r.artifacts.timeline!)));
  t.ok(existsSync(join(resultsDir, r.artifacts.loader!)));
  t.ok(existsSync(join(resultsDir, r.artifacts.kmsg_host!)));
  t.match(lines.join('\n'), /verifying every acknowledged write/);
  t.ok(fake.host.agent.ops('writeFile').some((a) => String(a.path).endsWith('.ctl') && a.data === 'SIGUSR2'), 'recovered: the loader reads back (SIGUSR2)');
});

t.test('a controller deleted when the device goes (stock): FAIL "deleted", loader stopped without read-back', async (t) => {
  const { r, fake } = await run({}, { onReset: 'deleted', deleteAfterMs: 20 });
  t.equal(r.verdict, 'FAIL');
  t.match(r.reason, /controller nvme0 deleted 0\.\d\d s after the device went away; no I\/O completed after the reset/);
  t.ok(fake.host.agent.ops('writeFile').some((a) => String(a.path).endsWith('.ctl') && a.data === 'SIGINT'), 'not recovered: stopped without read-back (SIGINT)');
  t.equal(fake.state, 'killed');
});

t.test('expect: deleted, and the controller is deleted late enough: PASS', async (t) => {
  const { r } = await run(
    { connect: { ctrl_loss_tmo: 1, reconnect_delay: 1 }, expect: { controller: 'deleted', io_errors: 'allowed' } },
    { onReset: 'deleted', deleteAfterMs: 50 },
  );
  t.equal(r.verdict, 'PASS', r.reason);
  t.match(r.reason, /deleted cleanly/);
});

t.test('a harness failure is an ERROR with error.txt, the lab killed, the phases so far timed', async (t) => {
  const { r, fake, resultsDir } = await run({}, { loader: { stopsAfterMs: 50 } });
  t.equal(r.verdict, 'ERROR');
  t.match(r.reason, /the loader stopped before the reset/);
  t.equal(fake.state, 'killed');
  t.same(Object.keys(r.phases_ms ?? {}), ['boot', 'target', 'instrument', 'connect', 'load'], 'the failed phase is timed too');
  t.match(readFileSync(join(resultsDir, r.artifacts.error!), 'utf8'), /\(console of host\)/);
});

t.test('a lost write fails the run', async (t) => {
  const { r } = await run({}, { loader: { lostWrites: 3 } });
  t.equal(r.verdict, 'FAIL');
  t.match(r.reason, /3 acknowledged write\(s\) lost/);
});

t.test('unrelated device adds: each addition on the timeline, the devices gone at the end; judged against ctrl_loss_tmo', async (t) => {
  const over: Partial<ScenarioInput> = {
    down_ms: 2000,
    connect: { ctrl_loss_tmo: 2, reconnect_delay: 1 },
    admin: { action: 'add-unrelated-rdma-devices', after_ms: 100, count: 3, interval_ms: 100 },
    expect: { controller: 'deleted', io_errors: 'allowed' },
  };
  const onTime = await run(over, { onReset: 'deleted', deleteAfterMs: 1200 });
  t.equal(onTime.r.verdict, 'PASS', onTime.r.reason);
  t.match(onTime.r.reason, /deleted cleanly 1\.\d\d s after the device went away \(ctrl_loss_tmo=2 s\)/);
  const adds = onTime.r.events.filter((e) => e.kind === 'admin' && e.key === 'add-unrelated-rdma-devices');
  t.equal(adds.length, 4, 'three additions and the clean-up');
  t.match(adds[3]!.value, /^remove the unrelated devices: .*: ok$/);
  t.ok(adds[2]!.t_ms - adds[0]!.t_ms >= 190, 'interval_ms apart');
  const host = onTime.fake.host.agent.files.nodes;
  t.same([...host.keys()].filter((p) => /rbdummy|rbrxe/.test(p)), [], 'nothing left behind');
  t.ok(onTime.r.phases_ms!.resets! < 2000 + 1000, `the outage is down_ms, not down_ms plus the additions (${onTime.r.phases_ms!.resets} ms)`);
  const early = await run(over, { onReset: 'deleted', deleteAfterMs: 300 });
  t.equal(early.r.verdict, 'FAIL');
  t.match(early.r.reason, /deleted 0\.\d\d s after the device went away, before ctrl_loss_tmo=2 s could run out/);
});

t.test('port enabled while its device is away: a kept port lets the host back (PASS), a refused link does not (FAIL naming it)', async (t) => {
  const over: Partial<ScenarioInput> = { side: 'target', down_ms: 400, admin: { action: 'recreate-target-port', after_ms: 100 } };
  const patched = await run(over, { onReset: 'recovers', portWhileDown: 'keep' });
  t.equal(patched.r.verdict, 'PASS', patched.r.reason);
  t.match(patched.r.reason, /mkdir \/sys\/kernel\/config\/nvmet\/ports\/1 .*while the device is away: ok/);
  const stock = await run(over, { onReset: 'recovers', portWhileDown: 'refuse' });
  t.equal(stock.r.verdict, 'FAIL');
  t.match(stock.r.reason, /while the device is away" during recovery failed: .*ENODEV/);
});
