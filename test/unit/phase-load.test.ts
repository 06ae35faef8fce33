// The load phase and the loader it drives, against the fake lab.
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect, connectRace } from '../../src/scenario/phases/connect.js';
import { connectWithExtra, targetExtra } from '../../src/scenario/phases/extra-ctrls.js';
import type { Phase } from '../../src/scenario/phases/phase.js';
import type { ScenarioInput } from '../../src/scenario/spec.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { load } from '../../src/scenario/phases/load.js';
import { target } from '../../src/scenario/phases/target.js';
import { resets } from '../../src/scenario/phases/resets.js';
import { ioAfter, loaderJob, loaderRuntimeMs, PROGRESS_FILE, VERIFY_IODEPTH } from '../../src/scenario/loader.js';
import { LOADER_DRAIN_MS, LOADER_PROGRESS_TICK_MS, LOADER_STOP_DRAIN_MS } from '../../src/util/timeouts.js';
import { parseJobDocument } from '../../src/load/job-doc.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

const upToConnect = [boot, target, instrument, connect];

t.test('the loader job: the scenario load, verify on, progress every tick', async (t) => {
  const spec = quickSpec({ load: { rw: 'randrw', bs: '8k', iodepth: 32, size: '128m', rate_iops: 500 } });
  const job = parseJobDocument(loaderJob(spec, '/dev/nvme0n1', 12_345));
  t.equal(job.filename, '/dev/nvme0n1');
  t.equal(job.rw, 'randrw');
  t.equal(job.bs, 8192);
  t.equal(job.iodepth, 32);
  t.equal(job.verifyIodepth, VERIFY_IODEPTH, 'the read-back keeps more reads in flight than the load');
  t.equal(job.verifyMaxGap, 0, 'and reads only the blocks writes touched');
  t.equal(job.progressMs, LOADER_PROGRESS_TICK_MS);
  t.equal(job.size, 128 << 20);
  t.equal(job.runtimeMs, 12_345);
  t.equal(job.verify, true);
  t.equal(job.rateIops, 500);
  t.equal(job.drainTimeoutMs, LOADER_DRAIN_MS, 'the read-back waits out I/O in flight first');
  t.equal(job.stopDrainTimeoutMs, LOADER_STOP_DRAIN_MS, 'a stop without one does not wait long');
  t.ok(LOADER_STOP_DRAIN_MS < LOADER_DRAIN_MS);
  t.equal(parseJobDocument(loaderJob(quickSpec(), '/dev/x', 1)).rateIops, 0, 'no rate limit unless asked');
  const deep = loaderJob(quickSpec({ load: { rw: 'randwrite', bs: '4k', iodepth: 128, size: '64m' } }), '/dev/x', 1);
  t.equal(parseJobDocument(deep).verifyIodepth, 128, 'a deeper load keeps its depth for the read-back');
});

t.test('the loader runtime is a generous backstop over the planned scenario', async (t) => {
  const io = quickSpec({ pre_ms: 2000, post_ms: 2000, down_ms: 4000, resets: 2, recovery_deadline_ms: 20_000 });
  t.equal(loaderRuntimeMs(io), (2000 + 2 * 7000 + 20_000 + 2000) * 4 + 60_000);
  const race = quickSpec({ during: 'connect', pre_ms: 2000, post_ms: 2000 });
  t.equal(loaderRuntimeMs(race), 4000 * 4 + 60_000, 'a racing connect has no resets during the load');
});

t.test('load: the loader starts on the namespace, I/O flows, pre_ms passes before the phase ends', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ pre_ms: 600 }), {}, [...upToConnect, load]);
  t.ok(ctx.loader, 'the loader is in the context');
  t.notOk(ctx.loader!.done(), 'still running');
  t.ok(ctx.phasesMs.load! >= 600, `pre_ms held (${ctx.phasesMs.load} ms)`);
  t.equal(parseJobDocument(fake.loaderJob ?? '{}').filename, '/dev/nvme0n1');
  const run = fake.host.agent.calls.find((c) => c.op === 'load.run');
  t.equal(run?.args.progressFile, PROGRESS_FILE, 'the host agent runs the job, its progress in the progress file');
  t.notOk(fake.host.agent.calls.some((c) => c.op === 'exec' && (c.args.argv as string[]).includes('load')), 'no loader process started');
  t.ok((await ctx.loader!.completed()) > 100, 'completions counted from the progress file');
  await fake.kill();
});

t.test('load: the loader files the guest sees from the host are removed before the loader starts', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ pre_ms: 500 }), {}, upToConnect);
  const f = fake.host.agent.files;
  f.seedFile(PROGRESS_FILE, 'stale 999999');
  f.seedFile(`${PROGRESS_FILE}.ctl`, 'SIGINT');
  await load.run(ctx);
  const calls = fake.host.agent.calls.map((c) => (c.op === 'unlink' ? `unlink ${String(c.args.path)}` : c.op));
  const runAt = calls.lastIndexOf('load.run');
  t.same(
    calls.filter((c, i) => c.startsWith('unlink') && i < runAt).sort(),
    [`unlink ${PROGRESS_FILE}`, `unlink ${PROGRESS_FILE}.ctl`],
    'both unlinked before the job starts',
  );
  t.equal((await f.readFile(`${PROGRESS_FILE}.ctl`)).trim(), '', 'the control file is the loader’s own, not the stale SIGINT');
  t.notOk(ctx.loader!.done(), 'the loader runs');
  await fake.kill();
});

t.test('load: a loader that stops before the reset is a harness error, its JSON kept', async (t) => {
  const { ctx } = await fakeRun(quickSpec({ pre_ms: 600 }), { loader: { stopsAfterMs: 100 } }, upToConnect);
  await t.rejects(load.run(ctx), /the loader stopped before the reset \(exit 0\)/);
});

t.test('ioAfter: true once the count passes, false at the deadline or when the loader ended', async (t) => {
  let n = 0;
  let done = false;
  const loader = { exit: new Promise<never>(() => {}), runtimeMs: 1, done: () => done, completed: async () => n };
  setTimeout(() => (n = 5), 80);
  t.equal(await ioAfter(loader, 0, 2000), true);
  t.equal(await ioAfter(loader, 5, 150), false, 'no progress: false at the deadline');
  done = true;
  const t0 = Date.now();
  t.equal(await ioAfter(loader, 5, 5000), false);
  t.ok(Date.now() - t0 < 1000, 'an ended loader is not waited for');
  const unreadable = { ...loader, done: () => false, completed: () => Promise.reject(new Error('ENOENT')) };
  t.equal(await ioAfter(unreadable, 0, 120), false, 'no progress file yet is no progress');
});

t.test('load: the RDMA objects are counted during pre_ms (during: io), and the resets phase does not count them again', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ pre_ms: 500, down_ms: 50 }), { reconnectMs: 20 }, upToConnect);
  let asks = 0;
  for (const m of fake.machines) {
    m.agent.handlers.set('rdma.resources', () => {
      asks++;
      return [{ devName: 'rxe0', counts: { qp: 2, cm_id: 2 } }];
    });
  }
  await load.run(ctx);
  t.equal(asks, 2, 'one count per VM, in the load phase');
  t.same(ctx.rdmaBefore, { target: { qp: 2, cm_id: 2 }, host: { qp: 2, cm_id: 2 } });
  await resets.run(ctx);
  t.equal(asks, 2, 'none again before the reset');
  await fake.kill();
});

t.test('load: no count where the reset is not the resets phase’s (during: connect) or a connect follows the load', async (t) => {
  const cases: [Partial<ScenarioInput>, Phase[]][] = [
    [{ during: 'connect', inject_after_ms: 50 }, [boot, target, instrument, connectRace, load]],
    [{ extra_controllers: ['subsystem'], extra_in_flight_ms: 100 }, [boot, targetExtra, instrument, connectWithExtra, load]],
  ];
  for (const [over, phases] of cases) {
    const { ctx, fake } = await fakeRun(quickSpec({ pre_ms: 500, ...over }), {}, phases);
    t.ok(ctx.loader, `the load ran (${Object.keys(over).join(', ')})`);
    t.same(fake.machines.map((m) => m.agent.ops('rdma.resources').length), fake.machines.map(() => 0), 'nothing counted');
    t.equal(ctx.rdmaBefore, undefined);
    await fake.kill();
  }
});
