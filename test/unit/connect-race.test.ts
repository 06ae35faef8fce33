// reset-during-connect against the fake lab: the device goes while the connect write is
// in flight; accepted (must come live by itself), refused (a new connect once the
// device is back must work), or nothing raced.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirSync } from '../helpers/temp-dir.js';
import { raceConnect } from '../../src/scenario/connect-race.js';
import { boot } from '../../src/scenario/phases/boot.js';
import { target } from '../../src/scenario/phases/target.js';
import { LAB_NQN } from '../../src/orchestrate/nvme-lab.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';
import type { FakeLabOptions } from '../helpers/fake-lab.js';

const spec = quickSpec({ during: 'connect', inject_after_ms: 50, down_ms: 150 });

async function race(lab: FakeLabOptions, prepare?: (f: Awaited<ReturnType<typeof fakeRun>>['fake']) => void, s = spec, removalWithinMs?: number) {
  const r = await fakeRun(s, lab, [boot, target]);
  prepare?.(r.fake);
  const said: string[] = [];
  const out = await raceConnect(r.fake, s, r.fake.resetPlan(s), { nowMs: r.ctx.nowMs, say: (m) => said.push(m), runDir: r.ctx.runDir, removalWithinMs });
  return { ...r, out, said };
}

t.test('a connect held across the outage is accepted and must come live with no admin action', async (t) => {
  const { out, fake, said } = await race({ connectWhileDown: 'block', connectMs: 200 });
  t.equal(out.race.inFlight, true);
  t.equal(out.race.first.ok, true);
  t.equal(out.race.live, true);
  t.equal(out.race.retry, undefined, 'no second connect');
  t.same(out.race.leftover, []);
  t.same(out.ctrl, { device: 'nvme0', namespace: '/dev/nvme0n1', options: (out.race.first as { options: string }).options });
  t.ok(out.race.connectMs >= 150, `the write took the outage (${out.race.connectMs} ms)`);
  t.ok(out.window.backMs - out.window.goneMs >= 150);
  t.same(fake.resetLog, ['gone host', 'back host']);
  t.ok(fake.host.agent.guard.armedAt !== undefined, 'the guard is armed after the accepted connect');
  t.match(said[0], /reset during connect \(connect in flight after 50 ms\): fake rdma-link/);
});

t.test('a refused connect: the errno kept short, and the new connect after the device is back works', async (t) => {
  const { out, fake } = await race({ connectWhileDown: 'refuse', connectMs: 100 });
  t.equal(out.race.inFlight, true);
  t.same(out.race.first, { ok: false, error: 'ECONNRESET' });
  t.equal(out.race.retry?.ok, true);
  t.equal(out.race.live, true);
  t.equal(out.ctrl?.device, 'nvme0');
  t.equal(fake.host.agent.ops('fabrics.connect').length, 2);
  t.ok(fake.host.agent.guard.armedAt !== undefined, 'armed after the retry');
  t.same(fake.host.agent.guard.refused, [], 'the retry came before the guard was armed');
});

t.test('refused, and the new connect fails too: no controller to load', async (t) => {
  const { out } = await race({ connectWhileDown: 'refuse', connectMs: 100 }, (fake) =>
    fake.target.agent.files.remove(`/sys/kernel/config/nvmet/ports/1/subsystems/${LAB_NQN}`),
  );
  t.equal(out.race.first.ok, false);
  t.same(out.race.retry, { ok: false, error: 'ECONNREFUSED' });
  t.equal(out.race.live, false);
  t.equal(out.ctrl, undefined);
});

t.test('a connect that was done before the reset did not race', async (t) => {
  const { out } = await race({ connectMs: 5 }, undefined, quickSpec({ during: 'connect', inject_after_ms: 400, down_ms: 100 }));
  t.equal(out.race.inFlight, false);
  t.equal(out.race.first.ok, true);
  t.ok(out.race.connectMs < 400, `the connect took ${out.race.connectMs} ms`);
});

t.test('an accepted controller that never comes live is reported, with no controller to load', async (t) => {
  const { out } = await race({ connectWhileDown: 'block', connectMs: 200 }, (fake) => {
    // The kernel hands back a controller that stays connecting.
    const add = fake.host.agent.handlers.get('fabrics.connect')!;
    fake.host.agent.handlers.set('fabrics.connect', async (a, d) => {
      const answer = await add(a, d);
      fake.setState('nvme0', 'connecting');
      return answer;
    });
  });
  t.equal(out.race.first.ok, true);
  t.equal(out.race.live, false);
  t.equal(out.ctrl, undefined);
});

t.test('a removal that does not return with the connect in flight ends the race: its tasks saved, no new connect', async (t) => {
  const stack = '[<0>] __wait_for_common+0x1/0x2\n[<0>] cma_remove_one+0x5a/0xd0 [rdma_cm]\n[<0>] nldev_dellink+0x92/0xe0 [ib_core]\n';
  const seed = (f: Awaited<ReturnType<typeof fakeRun>>['fake']) => {
    f.host.agent.files.seedFile('/proc/177/comm', 'node\n');
    f.host.agent.files.seedFile('/proc/177/stack', stack);
  };
  const { out, fake, said, ctx } = await race({ connectWhileDown: 'block', connectMs: 200, triggerBlocksMs: 60_000 }, seed, spec, 300);
  t.equal(out.race.inFlight, true);
  t.ok(out.race.stuck, 'stuck');
  t.ok(out.race.stuck!.waitedMs >= 300 && out.race.stuck!.waitedMs < 2000, `waited ${out.race.stuck!.waitedMs} ms, the limit`);
  t.equal(out.race.stuck!.limitMs, 300);
  t.same(out.race.first, { ok: false, error: 'still in flight' });
  t.equal(out.race.retry, undefined, 'no new connect behind a hung removal');
  t.equal(out.ctrl, undefined, 'nothing to load');
  t.same(fake.resetLog, ['gone host'], 'the device is not brought back: its removal never ended');
  t.ok(existsSync(join(ctx.runDir, 'blocked-tasks.txt')), 'the blocked tasks saved');
  t.match(out.race.stuck!.blocked.join('; '), /node \(pid 177\).*cma_remove_one/, 'named with where they wait');
  t.match(said.at(-1), /the removal has not returned after \d+\.\d s with the connect in flight: the run ends here/);
  await fake.kill();
});

t.test('a whole run whose removal hangs behind the connect: a FAIL naming the blocked tasks, no ERROR, load and finish skipped', async (t) => {
  const { runScenario } = await import('../../src/scenario/runner.js');
  const { FakeLab } = await import('../helpers/fake-lab.js');
  const { RACE_REMOVAL_WITHIN_MS } = await import('../../src/util/timeouts.js');
  const fake = new FakeLab({ connectWhileDown: 'block', connectMs: 200, triggerBlocksMs: RACE_REMOVAL_WITHIN_MS + 60_000 });
  fake.host.agent.files.seedFile('/proc/177/comm', 'node\n');
  fake.host.agent.files.seedFile('/proc/177/stack', '[<0>] __wait_for_common+0x1/0x2\n[<0>] cma_remove_one+0x5a/0xd0 [rdma_cm]\n');
  const r = await runScenario(spec, { kernel: 'stock', resultsDir: tempDirSync('rb-race-'), iteration: 1, project: '/project' }, fake.driver());
  t.equal(r.verdict, 'FAIL', r.reason);
  t.match(r.reason, /^the host rdma-link reset, 50 ms into the connect \(still in flight\), had not returned 10\.\d s later \(allowed 10\.0 s\): the device removal hangs behind the connect; waiting: node \(pid 177\)/);
  t.equal(r.phases_ms!.load, undefined, 'no load');
  t.equal(r.phases_ms!.finish, undefined, 'no finish');
  t.ok(r.phases_ms!['connect-race']! >= RACE_REMOVAL_WITHIN_MS && r.phases_ms!['connect-race']! < RACE_REMOVAL_WITHIN_MS + 3000, `ended at the limit (${r.phases_ms!['connect-race']} ms)`);
  await fake.kill();
});

t.test("the blocked tasks include a process's threads: the agent's netlink request waits in a worker thread", async (t) => {
  const { readTaskStacks } = await import('../../src/scenario/reconnect-removal.js');
  const { blockedTasks } = await import('../../src/scenario/blocked-tasks.js');
  const { fake } = await fakeRun(spec, {}, []);
  const f = fake.host.agent.files;
  f.seedFile('/proc/177/comm', 'node\n');
  f.seedFile('/proc/177/stack', '[<0>] ep_poll+0x1/0x2\n');
  f.seedFile('/proc/177/task/177/comm', 'node\n');
  f.seedFile('/proc/177/task/177/stack', '[<0>] ep_poll+0x1/0x2\n');
  f.seedFile('/proc/177/task/183/comm', 'libuv-worker\n');
  f.seedFile('/proc/177/task/183/stack', '[<0>] __wait_for_common+0x1/0x2\n[<0>] cma_remove_one+0x5a/0xd0 [rdma_cm]\n[<0>] nldev_dellink+0x92/0xe0 [ib_core]\n');
  f.seedFile('/proc/9/comm', 'kworker/0:1\n');
  f.seedFile('/proc/9/stack', '[<0>] worker_thread+0x1/0x2\n');
  const stacks = await readTaskStacks(fake.host.agent);
  t.same(stacks.map((s) => [s.pid, s.comm]).sort(), [[177, 'node'], [183, 'libuv-worker'], [9, 'kworker/0:1']].sort(), 'every thread; a process with no task directory as itself');
  t.same(blockedTasks(stacks).map((b) => b.pid), [183], 'the worker thread in cma_remove_one');
  await fake.kill();
});
