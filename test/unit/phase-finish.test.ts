// The finish phase against the fake lab: the read-back when recovered, a plain stop
// otherwise, and the loader's failures as harness errors.
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { finish } from '../../src/scenario/phases/finish.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { load } from '../../src/scenario/phases/load.js';
import { resets } from '../../src/scenario/phases/resets.js';
import { target } from '../../src/scenario/phases/target.js';
import { watch } from '../../src/scenario/phases/watch.js';
import { controlFileOf } from '../../src/load/progress-file.js';
import { parseLoaderOutput, PROGRESS_FILE } from '../../src/scenario/loader.js';
import type { FakeLab } from '../helpers/fake-lab.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

const upToWatch = [boot, target, instrument, connect, load, resets, watch];

/** What the runner wrote to the loader's control file. */
const controlWrites = (fake: FakeLab): unknown[] =>
  fake.host.agent.ops('writeFile').filter((a) => a.path === controlFileOf(PROGRESS_FILE)).map((a) => a.data);

t.test('recovered: post_ms more, SIGUSR2, the final pass checked, loader.json kept, the end time set', async (t) => {
  const { ctx, fake, said } = await fakeRun(quickSpec({ post_ms: 600 }), {}, [...upToWatch, finish]);
  t.same(controlWrites(fake), ['SIGUSR2'], 'the loader asked to read back through its control file, no process started');
  t.notOk(fake.host.agent.execs().some((e) => e.startsWith('pkill')), 'no pkill process');
  t.ok(ctx.phasesMs.finish! >= 600, `post_ms held (${ctx.phasesMs.finish} ms)`);
  t.equal(ctx.load?.verify.finalPass.ran, true);
  const kept = readFileSync(join(ctx.runDir, 'loader.json'), 'utf8');
  t.match(kept, /^\{\n {2}"version": 1,/, 'loader.json indented, as the loader printed it before --compact');
  t.same(JSON.parse(kept), JSON.parse(JSON.stringify(ctx.load)), 'the same document');
  t.ok(ctx.endMs !== undefined && ctx.endMs > ctx.resets[0]!.backMs);
  t.equal(said.at(-1), 'quick-patched-1: verifying every acknowledged write');
});

t.test('not recovered: SIGINT at once, no read-back asked for', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec({ post_ms: 600 }), { onReset: 'deleted' }, [...upToWatch, finish]);
  t.same(controlWrites(fake), ['SIGINT']);
  t.ok(ctx.phasesMs.finish! < 600, 'no post_ms');
  t.equal(ctx.load?.verify.finalPass.ran, false);
});

t.test('recovered but the loader skipped its final pass: a harness error', async (t) => {
  const { ctx } = await fakeRun(quickSpec(), { loader: { noFinalPass: true } }, upToWatch);
  await t.rejects(finish.run(ctx), /ended without its final verify pass/);
});

t.test('recovered but the loader ran out of runtime: a harness error saying the kernel is slow', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec(), {}, upToWatch);
  // the job ends on its own, no final pass (the fake ends it as the control file's SIGINT would)
  await fake.host.agent.call('writeFile', { path: controlFileOf(PROGRESS_FILE), data: 'SIGINT' });
  await t.rejects(finish.run(ctx), /runtime ran out before the scenario ended/);
});

t.test('loader output that is not JSON is a harness error with its stderr', async (t) => {
  t.throws(() => parseLoaderOutput({ exitCode: 1, stdout: 'Segmentation fault', stderr: 'boom', timedOut: false }), /the loader printed no JSON \(exit 1\): boom/);
});
