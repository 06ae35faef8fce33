// boot, target and instrument against the fake lab.
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { target } from '../../src/scenario/phases/target.js';
import { LAB_NQN } from '../../src/orchestrate/nvme-lab.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

t.test('boot: the kernel resolved, the lab booted and said so', async (t) => {
  const { ctx, fake, said } = await fakeRun(quickSpec(), {}, [boot]);
  t.equal(ctx.lab, fake);
  t.match(said[0], /quick-patched-1: booting pair on patched/);
  t.match(said[1], /booted \(target 5 ms, cold; host 5 ms, cold\); building the target/, 'each VM says how it came up');
  t.ok(ctx.phasesMs.boot! >= 0);
});

t.test('target: nvmet on the target VM, nvme-rdma and rxe on the host VM', async (t) => {
  const { fake } = await fakeRun(quickSpec(), {}, [boot, target]);
  const tf = fake.target.agent.files;
  t.ok(tf.nodes.has(`/sys/kernel/config/nvmet/ports/1/subsystems/${LAB_NQN}`), 'the subsystem is linked to port 1');
  t.equal((await tf.readFile('/sys/kernel/config/nvmet/ports/1/addr_traddr')).trim(), '10.99.0.1');
  t.equal((await tf.readFile(`/sys/kernel/config/nvmet/subsystems/${LAB_NQN}/namespaces/1/device_path`)).trim(), '/dev/ram0');
  t.ok(fake.target.agent.execs().includes('modprobe nvmet-rdma'));
  t.ok(fake.host.agent.files.nodes.has('/sys/module/nvme_rdma'), 'the host loaded nvme-rdma');
  t.same(fake.host.agent.ops('rdma.newLink'), [{ name: 'rxe0', netdev: 'eth0', type: 'rxe' }], 'the host made its rxe device');
  t.equal(fake.host.agent.ops('fabrics.connect').length, 0, 'no connect yet');
});

t.test('target on loopback: one VM is both, and nvme-rdma is loaded here too (the connect phase counts on it)', async (t) => {
  const { fake } = await fakeRun(quickSpec({ topology: 'loopback' }), { topology: 'loopback' }, [boot, target]);
  t.equal(fake.machines.length, 1);
  t.equal(fake.host.agent.ops('rdma.newLink').length, 1, 'one rxe device');
  t.ok(fake.host.agent.files.nodes.has('/sys/module/nvme_rdma'));
});

t.test('instrument: clocks aligned and samplers started on every VM; kmemleak cleared only where the kernel has it', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec(), { kmemleak: { vms: ['target'] } }, [boot, target, instrument]);
  t.same([...ctx.clocks.keys()].sort(), ['host', 'target']);
  for (const c of ctx.clocks.values()) t.ok(c.errorMs >= 0 && c.errorMs < 50, `clock error bound ${c.errorMs} ms`);
  t.same([...ctx.samplers.keys()].sort(), ['host', 'target']);
  t.same(ctx.leakChecked.map((m) => m.name), ['target']);
  t.same(fake.target.agent.ops('writeFile').filter((a) => a.path === '/sys/kernel/debug/kmemleak'), [{ path: '/sys/kernel/debug/kmemleak', data: 'clear' }]);
  t.equal(fake.host.agent.ops('timeline.start').length, 1);
  for (const m of fake.machines) {
    const ops = m.agent.calls.map((c) => c.op);
    t.ok(ops.includes('settled') && ops.indexOf('settled') < ops.indexOf('clock'), `${m.name}: its imports settled before the clock's round trips`);
  }
  t.equal(fake.host.agent.calls.find((c) => c.op === 'warm') !== undefined, true, 'the host VM was asked to load execa once booted');
  t.same(fake.target.agent.ops('warm'), [], 'not the target VM: it builds the target meanwhile, and an rdma-link reset runs no tool there');
});

t.test("instrument: a pair's host VM is instrumented while the target is built; the target VM after it, once", async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec(), {}, [boot]);
  t.ok(ctx.instrumenting, 'under way once booted');
  t.same(ctx.instrumenting?.vms.map((m) => m.name), ['host']);
  await ctx.instrumenting?.done;
  t.equal(fake.host.agent.ops('timeline.start').length, 1, "the host's sampler runs before the target phase");
  t.equal(fake.target.agent.ops('timeline.start').length, 0, 'not the target VM: its set-up comes first');
  await target.run(ctx);
  await instrument.run(ctx);
  for (const m of fake.machines) t.equal(m.agent.ops('timeline.start').length, 1, `${m.name}: one sampler`);
  t.same([...ctx.clocks.keys()].sort(), ['host', 'target']);
});

t.test('instrument on loopback: the one VM in the instrument phase, after the set-up', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ topology: 'loopback' }), { topology: 'loopback' }, [boot]);
  t.equal(ctx.instrumenting, undefined, 'nothing started at boot: the VM builds the target next');
  await target.run(ctx);
  await instrument.run(ctx);
  t.equal(fake.host.agent.ops('timeline.start').length, 1);
});
