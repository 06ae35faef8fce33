// The resets phase against the fake lab: the guard armed, each reset's window, the
// pause between resets, and the administrator's action as the outage strategy.
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { load } from '../../src/scenario/phases/load.js';
import { EARLY_DELETION_MARGIN_MS, adminOutage, deletionDecides, outageFor, quietOutage, resets } from '../../src/scenario/phases/resets.js';
import { runScenario } from '../../src/scenario/runner.js';
import { FakeLab, type FakeLabOptions } from '../helpers/fake-lab.js';
import type { ScenarioInput } from '../../src/scenario/spec.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolMachines } from '../../src/scenario/agents-warm.js';
import { target } from '../../src/scenario/phases/target.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

const upToLoad = [boot, target, instrument, connect, load];

t.test('one reset: the guard armed on every VM, one window of down_ms, the plan on the scenario side', async (t) => {
  const { ctx, fake, said } = await fakeRun(quickSpec({ down_ms: 200, side: 'target' }), {}, [...upToLoad, resets]);
  for (const m of fake.machines) t.ok(m.agent.guard.armedAt !== undefined, `${m.name} guard armed`);
  t.equal(ctx.resets.length, 1);
  const w = ctx.resets[0]!;
  t.ok(w.backMs - w.goneMs >= 200, `the device was away ${Math.round(w.backMs - w.goneMs)} ms`);
  t.same(fake.resetLog, ['gone target', 'back target']);
  t.ok(said.some((m) => m.endsWith('reset 1/1: fake rdma-link (target)')));
  t.same(ctx.admin, [], 'no admin action');
  await t.rejects(fake.host.agent.call('fabrics.connect', { options: 'x' }), /no-admin guard: refused/, 'a connect is refused from now on');
  await fake.kill();
});

t.test('a reset that runs a tool waits for its VM to be warm (execa loaded): no trigger times an import', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ down_ms: 50, side: 'target', reset: 'module-reload' }), {}, upToLoad);
  t.equal(fake.host.agent.calls.findIndex((c) => c.op === 'warm'), 0, 'the host VM asked first, once booted (its loader starts through exec)');
  t.ok(fake.target.agent.ops('warm').length >= 1, "the target VM (modprobe -r there) asked, and waited for, during the load's start and pre_ms");
  fake.target.agent.handlers.set('warm', async () => {
    await new Promise((r) => setTimeout(r, 200));
    fake.resetLog.push('target warm');
    return null;
  });
  await resets.run(ctx);
  t.same(fake.resetLog, ['target warm', 'gone target', 'back target'], 'the trigger waited for the slow agent');
  await fake.kill();
});

t.test('an rdma-link reset runs no tool: the target VM never loads execa', async (t) => {
  const { fake } = await fakeRun(quickSpec({ down_ms: 50, side: 'target' }), {}, [...upToLoad, resets]);
  t.same(fake.target.agent.ops('warm'), []);
  t.same(fake.resetLog, ['gone target', 'back target']);
  await fake.kill();
});

t.test('which VMs run a tool: the reset kind, hold_tx, and the admin action’s side', async (t) => {
  const { fake } = await fakeRun(quickSpec(), {}, []);
  const names = (over: Parameters<typeof quickSpec>[0]) => toolMachines(fake, quickSpec(over)).map((m) => m.name);
  t.same(names({ side: 'both', reset: 'rdma-link' }), []);
  t.same(names({ side: 'both', reset: 'pci-rebind' }), [], 'sysfs, and the agent resolves the NIC’s link');
  t.same(names({ side: 'target', reset: 'module-reload' }), ['target']);
  t.same(names({ side: 'host', reset: 'hotplug' }), [], 'QMP and netlink only');
  t.same(names({ side: 'host', reset: 'rdma-link', admin: { action: 'unload-host-module', after_ms: 10 } }), ['host'], 'rmmod');
  await fake.kill();
});

t.test('several resets: each waits for live before the next', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ down_ms: 50, resets: 3 }), { reconnectMs: 20 }, [...upToLoad, resets]);
  t.equal(ctx.resets.length, 3);
  for (let i = 1; i < 3; i++) t.ok(ctx.resets[i]!.goneMs > ctx.resets[i - 1]!.backMs, `reset ${i + 1} after ${i}`);
  t.same(fake.resetLog, ['gone host', 'back host', 'gone host', 'back host', 'gone host', 'back host']);
  const waits = fake.host.agent.ops('waitFor').filter((a) => a.path === '/sys/class/nvme/nvme0/state' && a.value === 'live');
  t.equal(waits.length, 2, 'a wait for live between resets, none after the last');
  await fake.kill();
});

t.test('several resets of a controller deleted after the first: the others are not run', async (t) => {
  const { ctx, fake, said } = await fakeRun(quickSpec({ down_ms: 50, resets: 5 }), { onReset: 'deleted', deleteAfterMs: 10 }, [...upToLoad, resets]);
  t.equal(ctx.resets.length, 1, 'one reset, not five');
  t.same(fake.resetLog, ['gone host', 'back host']);
  t.ok(said.some((m) => m.endsWith('nvme0 was deleted after reset 1 and nothing connects again: the other 4 reset(s) are not run')), 'said so');
  await fake.kill();
});

t.test('a controller deleted while the device is away: the device comes back then, not after down_ms', async (t) => {
  const { ctx, fake, said } = await fakeRun(quickSpec({ down_ms: 5000 }), { onReset: 'deleted', deleteAfterMs: 10 }, [...upToLoad, resets]);
  const w = ctx.resets[0]!;
  t.ok(w.backMs - w.goneMs < 2000, `away ${Math.round(w.backMs - w.goneMs)} ms of down_ms 5000`);
  t.same(fake.resetLog, ['gone host', 'back host'], 'brought back as usual');
  t.ok(said.some((m) => /nvme0 was deleted \d+\.\d s after the device went away, which makes the run a FAIL whatever follows: the device comes back now/.test(m)), 'said so');
  await fake.kill();
});

t.test('a deletion the scenario expects, or a live controller: the device stays away down_ms', async (t) => {
  // ctrl_loss_tmo=0: a deletion is on time whenever it comes (earlyDeletion)
  for (const over of [{ expect: { controller: 'deleted' as const, io_errors: 'allowed' as const }, connect: { ctrl_loss_tmo: 0 } }, {}]) {
    const { ctx, fake } = await fakeRun(quickSpec({ down_ms: 1200, ...over }), over.expect ? { onReset: 'deleted', deleteAfterMs: 10 } : {}, [...upToLoad, resets]);
    const w = ctx.resets[0]!;
    t.ok(w.backMs - w.goneMs >= 1199, `away ${Math.round(w.backMs - w.goneMs)} ms (${over.expect ? 'deletion expected' : 'not deleted'})`);
    // the deletion checks never lengthen the outage: the last stretch is slept, not checked
    t.ok(w.backMs - w.goneMs < 1450, `and not much more (${Math.round(w.backMs - w.goneMs)} ms)`);
    await fake.kill();
  }
});

t.test('a deletion check that fails is not a deletion: the device stays away down_ms', async (t) => {
  const { ctx, fake, said } = await fakeRun(quickSpec({ down_ms: 1200 }), {}, upToLoad);
  let refused = 0;
  fake.host.agent.handlers.set('exists', async (a) => {
    if (!String(a.path).startsWith('/sys/class/nvme/')) return true;
    refused++;
    throw new Error('agent busy');
  });
  await resets.run(ctx);
  fake.host.agent.handlers.delete('exists');
  const w = ctx.resets[0]!;
  t.ok(refused >= 1, `the controller was checked (${refused} time(s))`);
  t.ok(w.backMs - w.goneMs >= 1199, `away ${Math.round(w.backMs - w.goneMs)} ms of down_ms 1200`);
  t.same(fake.resetLog, ['gone host', 'back host'], 'and brought back');
  t.notOk(said.some((m) => /was deleted/.test(m)), 'no deletion said');
  await fake.kill();
});

t.test('the outage strategy comes from the scenario: quiet, or the admin action', async (t) => {
  t.equal(outageFor(quickSpec()), quietOutage);
  t.not(outageFor(quickSpec({ admin: { action: 'delete-controller', after_ms: 50 } })), quietOutage);
});

t.test('admin during recovery: the action after_ms into the first outage, recorded with its time and VM', async (t) => {
  const spec = quickSpec({ down_ms: 300, resets: 2, admin: { action: 'reset-controller', after_ms: 100 } });
  const { ctx, fake, said } = await fakeRun(spec, { reconnectMs: 20 }, [...upToLoad, resets]);
  t.equal(ctx.admin.length, 1, 'only during the first reset');
  const a = ctx.admin[0]!;
  t.equal(a.vm, 'host');
  t.same(a.outcome, { action: 'reset-controller', what: 'echo 1 > /sys/class/nvme/nvme0/reset_controller', ok: true });
  const first = ctx.resets[0]!;
  t.ok(a.atMs - first.goneMs >= 100 && a.atMs < first.backMs, 'while the device was away, after after_ms');
  // Node's timers run on a millisecond clock, the run's on hrtime: a timer may fire up to 1 ms early by it.
  t.ok(first.backMs - first.goneMs >= 299, `the outage still lasts down_ms (${(first.backMs - first.goneMs).toFixed(1)} ms)`);
  t.same(fake.host.agent.guard.refused, [], 'the scenario action is allowed by the guard');
  t.equal(fake.host.agent.guard.scripted.length, 1);
  t.ok(said.some((m) => m.endsWith('admin: echo 1 > /sys/class/nvme/nvme0/reset_controller: ok')));
  await fake.kill();
});

t.test('remove-target-port: removed while away, re-created once the device is back, both recorded on the target', async (t) => {
  const spec = quickSpec({ side: 'target', down_ms: 200, admin: { action: 'remove-target-port', after_ms: 50 } });
  const { ctx, fake } = await fakeRun(spec, { reconnectMs: 20 }, [...upToLoad, resets]);
  t.same(
    ctx.admin.map((a) => [a.vm, a.outcome.ok, a.outcome.what.split(' ')[0]]),
    [
      ['target', true, 'rm'],
      ['target', true, 'mkdir'],
    ],
  );
  t.ok(ctx.admin[1]!.atMs >= ctx.resets[0]!.backMs, 'the port comes back after the device');
  t.ok(fake.target.agent.files.nodes.has('/sys/kernel/config/nvmet/ports/1'), 'the port is there again');
  await fake.kill();
});

t.test('adminOutage only acts on the first reset', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ down_ms: 60, admin: { action: 'delete-controller', after_ms: 10 } }), {}, [...upToLoad]);
  const o = adminOutage(ctx.spec.admin!);
  await o.away(ctx, 1, ctx.nowMs());
  await o.back(ctx, 1);
  t.same(ctx.admin, []);
  await fake.kill();
});

t.test('deletionDecides: the verdict\'s rules for a deletion, with the margin to spare', async (t) => {
  t.ok(deletionDecides(quickSpec(), 10_000), 'recovery expected, nothing connects again: any time');
  const del = quickSpec({ down_ms: 6000, expect: { controller: 'deleted', io_errors: 'allowed' }, admin: { action: 'delete-controller', after_ms: 3000 } });
  t.ok(deletionDecides(del, 300), 'before the administrator acted');
  t.notOk(deletionDecides(del, 3000 - EARLY_DELETION_MARGIN_MS), 'too close to the action to be sure the record says before');
  t.notOk(deletionDecides(del, 3200), 'after the action: what it waits for');
  const loss = quickSpec({ down_ms: 12_000, expect: { controller: 'deleted', io_errors: 'allowed' }, connect: { reconnect_delay: 1, ctrl_loss_tmo: 5 } });
  t.ok(deletionDecides(loss, 470), 'long before ctrl_loss_tmo could run out (stock)');
  t.notOk(deletionDecides(loss, 5200), 'when ctrl_loss_tmo ran out (patched)');
  t.notOk(deletionDecides(quickSpec({ expect: { controller: 'deleted', io_errors: 'allowed' }, connect: { ctrl_loss_tmo: 0 } }), 10), 'no ctrl_loss_tmo: never early');
  t.ok(deletionDecides(quickSpec({ down_ms: 6000, admin: { action: 'reset-controller', after_ms: 3000 } }), 300), 'a reset-controller recreates nothing');
});

/** A whole run on the fake lab, its result. */
async function wholeRun(over: Partial<ScenarioInput>, lab: FakeLabOptions) {
  const resultsDir = mkdtempSync(join(tmpdir(), 'rb-resets-'));
  return runScenario(quickSpec(over), { kernel: 'stock', resultsDir, iteration: 1, project: '/project' }, new FakeLab(lab).driver());
}

t.test('deleted before the administrator acted (stock delete-during-recovery): no action, the device back at once, the same FAIL', async (t) => {
  const over: Partial<ScenarioInput> = { down_ms: 4000, expect: { controller: 'deleted', io_errors: 'allowed' }, admin: { action: 'delete-controller', after_ms: 2000 } };
  const { ctx, fake, said } = await fakeRun(quickSpec(over), { onReset: 'deleted', deleteAfterMs: 10 }, [...upToLoad, resets]);
  const w = ctx.resets[0]!;
  t.ok(w.backMs - w.goneMs < 1500, `away ${Math.round(w.backMs - w.goneMs)} ms of down_ms 4000`);
  t.same(ctx.admin, [], 'the administrator did not act on a controller already gone');
  t.same(fake.host.agent.guard.scripted, [], 'nothing done through the guard');
  t.ok(said.some((m) => /nvme0 was deleted 0\.\d s after the device went away, which makes the run a FAIL whatever follows/.test(m)), 'said so');
  await fake.kill();
  const r = await wholeRun(over, { onReset: 'deleted', deleteAfterMs: 10 });
  t.equal(r.verdict, 'FAIL');
  t.match(r.reason, /^controller nvme0 deleted 0\.\d\d s after the device went away, before the administrator acted \(2\.00 s in\): it never waited to reconnect$/);
  t.ok(r.phases_ms!.resets! < 1500, `resets took ${r.phases_ms!.resets} ms`);
});

t.test('deleted long before ctrl_loss_tmo (stock ctrl-loss-expiry): the device back at once, the same FAIL', async (t) => {
  const over: Partial<ScenarioInput> = { down_ms: 6000, expect: { controller: 'deleted', io_errors: 'allowed' }, connect: { reconnect_delay: 1, ctrl_loss_tmo: 5 } };
  const r = await wholeRun(over, { onReset: 'deleted', deleteAfterMs: 10 });
  t.equal(r.verdict, 'FAIL');
  t.match(r.reason, /^controller nvme0 deleted 0\.\d\d s after the device went away, before ctrl_loss_tmo=5 s could run out: it never waited to reconnect$/);
  t.ok(r.phases_ms!.resets! < 1500, `resets took ${r.phases_ms!.resets} ms of down_ms 6000`);
});

t.test('deleted when ctrl_loss_tmo ran out (patched): the device stays away down_ms, and the run PASSes', async (t) => {
  const over: Partial<ScenarioInput> = { down_ms: 2500, expect: { controller: 'deleted', io_errors: 'allowed' }, connect: { reconnect_delay: 1, ctrl_loss_tmo: 2 } };
  const r = await wholeRun(over, { onReset: 'deleted', deleteAfterMs: 1500 });
  t.equal(r.verdict, 'PASS', r.reason);
  t.ok(r.phases_ms!.resets! >= 2499, `resets took ${r.phases_ms!.resets} ms of down_ms 2500`);
});

t.test('deleted before a reset-controller: no action, the device back at once, the same FAIL', async (t) => {
  const over: Partial<ScenarioInput> = { down_ms: 4000, admin: { action: 'reset-controller', after_ms: 2000 } };
  const r = await wholeRun(over, { onReset: 'deleted', deleteAfterMs: 10 });
  t.equal(r.verdict, 'FAIL');
  t.match(r.reason, /^controller nvme0 deleted 0\.\d\d s after the device went away; no I\/O completed after the reset$/);
  t.ok(r.phases_ms!.resets! < 1500, `resets took ${r.phases_ms!.resets} ms of down_ms 4000`);
});

t.test('an admin step that fails and decides the run (stock refuses the port link): the device back right after it', async (t) => {
  const over: Partial<ScenarioInput> = { side: 'target', down_ms: 4000, admin: { action: 'recreate-target-port', after_ms: 200 } };
  const { ctx, fake, said } = await fakeRun(quickSpec(over), { onReset: 'recovers', portWhileDown: 'refuse' }, [...upToLoad, resets]);
  const w = ctx.resets[0]!;
  t.ok(w.backMs - w.goneMs < 1500, `away ${Math.round(w.backMs - w.goneMs)} ms of down_ms 4000`);
  t.same(ctx.admin.map((a) => a.outcome.ok), [true, false], 'removed, then the link refused');
  t.ok(said.some((m) => /failed, which makes the run a FAIL: the device comes back now, not after down_ms$/.test(m)), 'said so');
  await fake.kill();
  const keep = await fakeRun(quickSpec(over), { onReset: 'recovers', portWhileDown: 'keep', reconnectMs: 20 }, [...upToLoad, resets]);
  const k = keep.ctx.resets[0]!;
  t.ok(k.backMs - k.goneMs >= 3999, `the port kept (patched): away down_ms (${Math.round(k.backMs - k.goneMs)} ms)`);
  await keep.fake.kill();
});
