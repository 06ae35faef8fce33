// The load phase and the loader it drives, against the fake lab.
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { load } from '../../src/scenario/phases/load.js';
import { target } from '../../src/scenario/phases/target.js';
import { ioAfter, loaderArgv, loaderRuntimeMs, PROGRESS_FILE, STATE_FILE, VERIFY_IODEPTH } from '../../src/scenario/loader.js';
import { LOADER_DRAIN_MS, LOADER_PROGRESS_TICK_MS, LOADER_STOP_DRAIN_MS } from '../../src/util/timeouts.js';
import { parseJobDocument } from '../../src/load/job-doc.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

const upToConnect = [boot, target, instrument, connect];

t.test('the loader command line: the scenario load, verify on, progress and state files', async (t) => {
  const spec = quickSpec({ load: { rw: 'randrw', bs: '8k', iodepth: 32, size: '128m', rate_iops: 500 } });
  const argv = loaderArgv('/p', spec, '/dev/nvme0n1', 12_345);
  t.same(argv.slice(0, 3), ['node', '/p/dist/guest-bundle/main.js', 'load'], 'the bundle of dist/cli/main.js (src/vm/guest-bundle.ts)');
  const opt = (k: string) => argv[argv.indexOf(k) + 1];
  const job = parseJobDocument(opt('--job')!);
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
  t.notOk(argv.includes('--save-state'), 'no state file: nothing reads it, it dies with the guest');
  t.equal(opt('--progress-file'), PROGRESS_FILE);
  t.equal(job.rateIops, 500);
  t.equal(job.drainTimeoutMs, LOADER_DRAIN_MS, 'the read-back waits out I/O in flight first');
  t.equal(job.stopDrainTimeoutMs, LOADER_STOP_DRAIN_MS, 'a stop without one does not wait long');
  t.ok(LOADER_STOP_DRAIN_MS < LOADER_DRAIN_MS);
  const plain = loaderArgv('/p', quickSpec(), '/dev/x', 1);
  t.equal(parseJobDocument(plain[plain.indexOf('--job') + 1]!).rateIops, 0, 'no rate limit unless asked');
  const deep = loaderArgv('/p', quickSpec({ load: { rw: 'randwrite', bs: '4k', iodepth: 128, size: '64m' } }), '/dev/x', 1);
  t.equal(parseJobDocument(deep[deep.indexOf('--job') + 1]!).verifyIodepth, 128, 'a deeper load keeps its depth for the read-back');
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
  t.equal(parseJobDocument(fake.loaderArgv?.[fake.loaderArgv.indexOf('--job') + 1] ?? '{}').filename, '/dev/nvme0n1');
  t.ok((await ctx.loader!.completed()) > 100, 'completions counted from the progress file');
  await fake.kill();
});

t.test('load: the loader files the guest sees from the host are removed before the loader starts', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ pre_ms: 500 }), {}, upToConnect);
  const f = fake.host.agent.files;
  f.seedFile(PROGRESS_FILE, 'stale 999999');
  f.seedFile(`${PROGRESS_FILE}.ctl`, 'SIGINT');
  f.seedFile(STATE_FILE, 'stale');
  await load.run(ctx);
  const calls = fake.host.agent.calls.map((c) => (c.op === 'unlink' ? `unlink ${String(c.args.path)}` : c.op));
  const execAt = calls.lastIndexOf('exec');
  t.same(
    calls.filter((c, i) => c.startsWith('unlink') && i < execAt),
    [`unlink ${PROGRESS_FILE}`, `unlink ${PROGRESS_FILE}.ctl`, `unlink ${STATE_FILE}`],
    'all three unlinked before the loader exec',
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
