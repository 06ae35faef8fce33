// The watch phase against the fake lab: what the scenario expects decides what it waits
// for, and when it stops waiting.
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { load } from '../../src/scenario/phases/load.js';
import { resets } from '../../src/scenario/phases/resets.js';
import { target } from '../../src/scenario/phases/target.js';
import { EXPECTATIONS, watch } from '../../src/scenario/phases/watch.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';
import type { FakeLabOptions } from '../helpers/fake-lab.js';
import type { ScenarioInput } from '../../src/scenario/spec.js';

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
