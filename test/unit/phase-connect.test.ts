// The connect phases against the fake lab: a plain connect, and the racing one.
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect, connectRace } from '../../src/scenario/phases/connect.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { target } from '../../src/scenario/phases/target.js';
import { LAB_HOSTID, LAB_HOSTNQN, LAB_NQN } from '../../src/orchestrate/nvme-lab.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

t.test('connect: the scenario connect options, the controller live, its namespace found', async (t) => {
  const { ctx, fake, said } = await fakeRun(quickSpec({ connect: { ctrl_loss_tmo: 30, queue_size: 64 } }), {}, [boot, target, instrument, connect]);
  t.same(ctx.ctrl, {
    device: 'nvme0',
    namespace: '/dev/nvme0n1',
    options: `transport=rdma,traddr=10.99.0.1,trsvcid=4420,nqn=${LAB_NQN},hostnqn=${LAB_HOSTNQN},hostid=${LAB_HOSTID},reconnect_delay=1,ctrl_loss_tmo=30,queue_size=64`,
  });
  t.equal(said.at(-1), 'quick-patched-1: nvme0 live on /dev/nvme0n1');
  t.equal(ctx.resets.length, 0);
  t.equal(fake.resetLog.length, 0, 'no reset during a plain connect');
});

for (const topology of ['pair', 'loopback'] as const) {
  t.test(`connect on ${topology}: the host the target phase prepared is not checked again`, async (t) => {
    const { ctx, fake } = await fakeRun(quickSpec({ topology }), { topology }, [boot, target, instrument]);
    const before = fake.host.agent.calls.length;
    await connect.run(ctx);
    const during = fake.host.agent.calls.slice(before);
    t.equal(during[0]?.op, 'fabrics.connect', 'the connect write is the first call');
    t.same(
      during.filter((c) => String(c.args.path).startsWith('/sys/class/infiniband') || String(c.args.path).startsWith('/sys/module')),
      [],
      'no rxe or module check: each is a round trip to a VM that may still be loading its code',
    );
  });
}

t.test('connect-race: the race recorded, its reset window kept, the controller to load', async (t) => {
  const spec = quickSpec({ during: 'connect', inject_after_ms: 20, down_ms: 100 });
  const { ctx, said } = await fakeRun(spec, { connectWhileDown: 'refuse', connectMs: 60 }, [boot, target, instrument, connectRace]);
  t.equal(ctx.race?.first.ok, false);
  t.equal(ctx.resets.length, 1);
  t.equal(ctx.ctrl?.device, 'nvme0');
  t.ok(said.some((m) => m.endsWith('connect refused (ECONNRESET), new connect worked')), said.join('\n'));
});

t.test('connect: a target with no port is a harness error naming the cause', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec(), {}, [boot, target]);
  fake.target.agent.files.remove(`/sys/kernel/config/nvmet/ports/1/subsystems/${LAB_NQN}`);
  await t.rejects(connect.run(ctx), /ECONNREFUSED/);
});
