// The watch phase against the fake lab: what the scenario expects decides what it waits
// for, and when it stops waiting.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { load } from '../../src/scenario/phases/load.js';
import { resets } from '../../src/scenario/phases/resets.js';
import { target } from '../../src/scenario/phases/target.js';
import { EXPECTATIONS, deletionIsFinal, watch } from '../../src/scenario/phases/watch.js';
import { DELETION_CHECK_MS } from '../../src/util/timeouts.js';
import { runScenario } from '../../src/scenario/runner.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';
import { FakeLab } from '../helpers/fake-lab.js';
import type { FakeLabOptions } from '../helpers/fake-lab.js';
import { ADMIN_ACTIONS, type ScenarioInput } from '../../src/scenario/spec.js';
import type { AdminOutcome } from '../../src/scenario/admin-actions.js';
import { decidingAdminFailure } from '../../src/scenario/verdict.js';

const upToResets = [boot, target, instrument, connect, load, resets, watch];

async function watched(over: Partial<ScenarioInput>, lab: FakeLabOptions) {
  const r = await fakeRun(quickSpec({ recovery_deadline_ms: 1000, ...over }), lab, upToResets);
  await r.fake.kill();
  return r;
}

t.test('the expectations table', async (t) => {
  t.same(EXPECTATIONS.recovers, { test: 'equals', value: 'live', io: true, reached: 'live, I/O completing' });
  t.same(EXPECTATIONS.deleted, { test: 'absent', io: false, reached: 'deleted' });
});

t.test('recovers: live again and I/O completing, as soon as it is', async (t) => {
  const { ctx, said } = await watched({}, { reconnectMs: 50 });
  t.equal(ctx.reachedExpected, true);
  t.ok(ctx.phasesMs.watch! < 800, `stopped waiting early (${ctx.phasesMs.watch} ms)`);
  t.equal(said.at(-1), 'quick-patched-1: controller live, I/O completing; finishing the load');
});

t.test('recovers expected, but live with no I/O: not reached, said so', async (t) => {
  const { ctx, said } = await watched({}, { onReset: 'live-no-io', reconnectMs: 50 });
  t.equal(ctx.reachedExpected, false);
  t.equal(said.at(-1), 'quick-patched-1: controller live but no I/O completed; finishing the load');
});

t.test('recovers expected, but the controller stays connecting: the whole deadline, not recovered', async (t) => {
  const { ctx, said } = await watched({ recovery_deadline_ms: 1000 }, { onReset: 'stuck' });
  t.equal(ctx.reachedExpected, false);
  t.ok(ctx.phasesMs.watch! >= 1000, `waited the deadline (${ctx.phasesMs.watch} ms)`);
  t.equal(said.at(-1), 'quick-patched-1: controller not recovered; finishing the load');
});

t.test('deleted expected: reached when the controller is gone', async (t) => {
  const { ctx, said } = await watched({ expect: { controller: 'deleted', io_errors: 'allowed' } }, { onReset: 'deleted', deleteAfterMs: 150 });
  t.equal(ctx.reachedExpected, true);
  t.equal(said.at(-1), 'quick-patched-1: controller deleted; finishing the load');
});

t.test('recovers expected, the controller deleted (stock) and no admin action connects again: the wait ends at once', async (t) => {
  const { ctx, said } = await watched({ recovery_deadline_ms: 8000 }, { onReset: 'deleted', deleteAfterMs: 20 });
  t.equal(ctx.reachedExpected, false);
  t.ok(ctx.phasesMs.watch! < DELETION_CHECK_MS, `deleted before the watch began: no wait at all (${ctx.phasesMs.watch} ms)`);
  t.equal(said.at(-1), 'quick-patched-1: controller deleted, and nothing in the scenario connects again: not waiting out the deadline; finishing the load');
});

t.test('a deletion during the watch ends it too, within one check', async (t) => {
  // deleted 1.2 s after the device went away: down_ms is 100, so well into the watch
  const { ctx } = await watched({ recovery_deadline_ms: 8000 }, { onReset: 'deleted', deleteAfterMs: 1200 });
  t.equal(ctx.reachedExpected, false);
  t.ok(ctx.phasesMs.watch! >= 1000, `waited while it still existed (${ctx.phasesMs.watch} ms)`);
  t.ok(ctx.phasesMs.watch! < 1100 + DELETION_CHECK_MS + 700, `ended soon after the deletion (${ctx.phasesMs.watch} ms)`);
});

t.test('no admin action of today re-creates a deleted controller', async (t) => {
  t.equal(deletionIsFinal(quickSpec()), true);
  for (const action of ADMIN_ACTIONS) t.equal(deletionIsFinal(quickSpec({ down_ms: 8000, admin: { action, after_ms: 1000 } })), true, action);
});

t.test('the early end changes no verdict: a stock-like deletion is the same FAIL with the same reason, sooner', async (t) => {
  const fullRun = async (deadline: number) => {
    const fake = new FakeLab({ onReset: 'deleted', deleteAfterMs: 20 });
    const resultsDir = mkdtempSync(join(tmpdir(), 'rb-watch-'));
    return runScenario(quickSpec({ recovery_deadline_ms: deadline }), { kernel: 'stock', resultsDir, iteration: 1, project: '/project' }, fake.driver());
  };
  // A 1 s deadline is waited out whole either way; a 20 s one would be waited out without the early end.
  const [short, long] = [await fullRun(1000), await fullRun(20_000)];
  for (const r of [short, long]) {
    t.equal(r.verdict, 'FAIL');
    t.match(r.reason, /^controller nvme0 deleted 0\.0\d s after the device went away; no I\/O completed after the reset$/);
  }
  const shape = (reason: string) => reason.replace(/\d+\.\d+ s/g, 'N s');
  t.equal(shape(long.reason), shape(short.reason), 'the same reason but for the measured times');
  t.same({ ...long.metrics, outage_ms: 0 }, { ...short.metrics, outage_ms: 0 }, 'the metrics but the open gap (it ends with the load)');
  t.ok(long.phases_ms!.watch! < 1500, `the 20 s deadline was not waited out (${long.phases_ms!.watch} ms)`);
});

t.test('an admin action that failed (stock refuses the port link): no wait at all, and the same FAIL', async (t) => {
  const over: Partial<ScenarioInput> = { side: 'target', down_ms: 400, recovery_deadline_ms: 8000, admin: { action: 'recreate-target-port', after_ms: 100 } };
  const { ctx, said } = await watched(over, { onReset: 'recovers', portWhileDown: 'refuse' });
  t.equal(ctx.reachedExpected, false);
  t.ok(ctx.phasesMs.watch! < 500, `the 8 s deadline was not waited out (${ctx.phasesMs.watch} ms)`);
  t.match(said.at(-1), /failed, which makes the run a FAIL: not waiting out the deadline; finishing the load$/);
  const resultsDir = mkdtempSync(join(tmpdir(), 'rb-watch-'));
  const fake = new FakeLab({ onReset: 'recovers', portWhileDown: 'refuse' });
  const r = await runScenario(quickSpec(over), { kernel: 'stock', resultsDir, iteration: 1, project: '/project' }, fake.driver());
  t.equal(r.verdict, 'FAIL');
  t.match(r.reason, /while the device is away" during recovery failed: .*ENODEV/);
  t.ok(r.phases_ms!.watch! < 500, `the run did not wait either (${r.phases_ms!.watch} ms)`);
});

t.test('which failed admin actions decide the run: every one but a refused reset-controller', async (t) => {
  const refused = (action: AdminOutcome['action']): AdminOutcome => ({ action, what: action, ok: false, error: 'EBUSY' });
  t.equal(decidingAdminFailure([refused('reset-controller')]), undefined, 'the kernel may refuse a reset while it reconnects');
  t.equal(decidingAdminFailure([{ action: 'recreate-target-port', what: 'x', ok: true }]), undefined);
  for (const action of ADMIN_ACTIONS.filter((a) => a !== 'reset-controller')) t.same(decidingAdminFailure([refused('reset-controller'), refused(action)]), refused(action), action);
});

t.test('target side, the port never listens again (stock): the wait ends at relisten_within_ms, not at the deadline', async (t) => {
  const { ctx, said } = await watched({ side: 'target', recovery_deadline_ms: 8000, relisten_within_ms: 1000 }, { listener: 'dropped', reconnectMs: 20 });
  t.equal(ctx.listenedBefore, '10.99.0.1:4420', 'seen listening before the reset');
  t.equal(ctx.reachedExpected, false);
  t.ok(ctx.relisten?.deafMs !== undefined, 'a listing at the limit lacked it');
  t.ok(ctx.phasesMs.watch! >= 1000 && ctx.phasesMs.watch! < 1000 + DELETION_CHECK_MS + 500, `ended within a check of the limit (${ctx.phasesMs.watch} ms)`);
  t.equal(said.at(-1), 'quick-patched-1: controller not recovered, and the target is not listening on 10.99.0.1:4420 1 s after the device came back: not waiting out the deadline; finishing the load');
});

t.test('target side, the host still live with its I/O stalled (it has not noticed the reset) and the port not bound again: the I/O wait ends at the limit too', async (t) => {
  const { ctx, said } = await watched({ side: 'target', recovery_deadline_ms: 8000, relisten_within_ms: 1000 }, { onReset: 'unnoticed', listener: 'dropped' });
  t.equal(ctx.reachedExpected, false);
  t.ok(ctx.relisten?.deafMs !== undefined, 'decided by the listing');
  t.ok(ctx.phasesMs.watch! >= 1000 && ctx.phasesMs.watch! < 2000, `not the 8 s deadline (${ctx.phasesMs.watch} ms)`);
  t.equal(said.at(-1), 'quick-patched-1: controller not recovered, and the target is not listening on 10.99.0.1:4420 1 s after the device came back: not waiting out the deadline; finishing the load');
});

t.test('target side, listening again (patched): recovered as before, and the record says when the port was back', async (t) => {
  const { ctx, said } = await watched({ side: 'target', recovery_deadline_ms: 8000, relisten_within_ms: 1000 }, { listener: 'kept', reconnectMs: 50 });
  t.equal(ctx.reachedExpected, true);
  t.equal(ctx.relisten?.device, 'rxe0');
  t.ok(ctx.relisten?.listeningMs !== undefined, 'seen listening');
  t.equal(ctx.relisten?.deafMs, undefined);
  t.equal(said.at(-1), 'quick-patched-1: controller live, I/O completing; finishing the load');
});

t.test('no requirement where the listing does not show the port before the reset, or the host side is reset', async (t) => {
  for (const [over, lab] of [
    [{ side: 'target' }, {}],
    [{ side: 'host' }, { listener: 'dropped' }],
  ] as const) {
    const { ctx, fake } = await watched({ ...over, recovery_deadline_ms: 8000 }, { ...lab, reconnectMs: 50 });
    t.equal(ctx.listenedBefore, undefined, `${over.side}: nothing seen`);
    t.equal(ctx.relisten, undefined);
    t.equal(ctx.reachedExpected, true);
    t.same(fake.target.agent.ops('rdma.listeners').length, over.side === 'host' ? 0 : 1, 'listed only where it applies');
  }
});

t.test('a whole stock run of a target-side reset whose port is not bound again: a FAIL naming the port, decided at relisten_within_ms', async (t) => {
  const { FakeLab } = await import('../helpers/fake-lab.js');
  const { tempDirSync } = await import('../helpers/temp-dir.js');
  const fake = new FakeLab({ listener: 'dropped', reconnectMs: 20 });
  const spec = quickSpec({ side: 'target', recovery_deadline_ms: 20_000, relisten_within_ms: 1000 });
  const r = await runScenario(spec, { kernel: 'stock', resultsDir: tempDirSync('rb-deaf-'), iteration: 1, project: '/project' }, fake.driver());
  t.equal(r.verdict, 'FAIL', r.reason);
  t.match(r.reason, /^the target was not listening on 10\.99\.0\.1:4420 1\.\d\d s after the device came back \(allowed 1\.00 s\): nvmet-rdma did not bind the port again, so every connect is refused and the run ended there; controller nvme0 still connecting/);
  t.ok(r.phases_ms!.watch! < 3000, `no 20 s deadline waited out (${r.phases_ms!.watch} ms)`);
  t.ok(r.events.some((e) => e.kind === 'listener' && e.value === 'not listening 1000 ms after the device came back'), 'on the timeline');
  await fake.kill();
});
