// How long this machine kept a VM off the CPU: the stretches found in samples, the
// /proc parsers, the FAIL that becomes an ERROR, the watch on a process that really
// waits for a CPU, and the runner running a starved FAIL once more.
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIRST_ATTEMPT_DIR, runScenario } from '../../src/scenario/runner.js';
import { parseScenario } from '../../src/scenario/spec.js';
import { judgeStarved } from '../../src/scenario/starved.js';
import type { LabDriver } from '../../src/scenario/lab.js';
import type { Judgement } from '../../src/scenario/context.js';
import type { RunResult } from '../../src/scenario/types.js';
import { longestStretch, parseSchedstatWait, parseStealTicks, starvedStretches, STARVED_RUN_MS, watchStarvation, type StarvationSample } from '../../src/vm/starvation.js';
import { FakeLab, type FakeLabOptions } from '../helpers/fake-lab.js';
import { tempDirSync } from '../helpers/temp-dir.js';

const at = (atMs: number, waitedMs: Record<string, number>, elapsedMs = 100): StarvationSample => ({ atMs, elapsedMs, waitedMs });

t.test('stretches: per VM, the most waited in a span where it waited 80% of the time or more', async (t) => {
  // host: a 2 s wait accounted in one sample when its thread ran again; target: 90 ms of 100 twice, then little.
  const samples = [at(100, { host: 10, target: 90 }), at(200, { host: 20, target: 90 }), at(300, { host: 2000, target: 10 }), at(400, { host: 0, target: 20 })];
  t.same(starvedStretches(samples), [
    { vm: 'host', startMs: 0, ms: 2030 },
    { vm: 'target', startMs: 20, ms: 180 },
  ]);
  t.same(longestStretch(starvedStretches(samples)), { vm: 'host', startMs: 0, ms: 2030 });
  t.equal(longestStretch([]), undefined);
  t.same(starvedStretches([at(100, { host: 0 }), at(200, { host: 79 })]), [], 'never 80% of a span: not starved');
  t.same(starvedStretches(Array.from({ length: 40 }, (_, i) => at(100 * (i + 1), { host: i % 2 ? 60 : 0 }))), [], 'a busy machine (30% waited) is not a starved one');
  t.same(starvedStretches([]), []);
});

t.test('/proc parsers: schedstat\'s wait, /proc/stat\'s steal; junk is undefined', async (t) => {
  t.equal(parseSchedstatWait('123456 7890 12\n'), 7890);
  t.equal(parseSchedstatWait(''), undefined);
  t.equal(parseSchedstatWait('1 x 2'), undefined);
  t.equal(parseStealTicks('cpu  983407 3265 276822 10605025 6110 0 12977 42 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n'), 42);
  t.equal(parseStealTicks('intr 1 2 3'), undefined);
});

const judgement = (verdict: Judgement['verdict']): Judgement => ({ verdict, reason: 'path nvme0 connecting', metrics: {} as Judgement['metrics'] });

t.test('a FAIL while a VM was starved long enough is an ERROR that says why and keeps the FAIL\'s reason', async (t) => {
  const long = { vm: 'target', startMs: 12_000, ms: STARVED_RUN_MS };
  const j = judgeStarved(judgement('FAIL'), long);
  t.equal(j.verdict, 'ERROR');
  t.match(j.reason, /^this machine kept the target VM off the CPU for 2\.0 s from 12\.0 s .*: the FAIL may be the machine's, not the kernel's \(it was: path nvme0 connecting\)$/);
  t.equal(judgeStarved(judgement('FAIL'), { ...long, ms: STARVED_RUN_MS - 1 }).verdict, 'FAIL', 'a shorter stretch leaves the FAIL');
  t.equal(judgeStarved(judgement('FAIL'), undefined).verdict, 'FAIL');
  t.equal(judgeStarved(judgement('PASS'), long).verdict, 'PASS', 'a PASS stands');
  t.equal(judgeStarved(judgement('ERROR'), long).reason, 'path nvme0 connecting', 'an ERROR stands as it was');
});

/**
 * A busy loop at nice 19 and another at nice 0, both on CPU 0: the first waits for the
 * CPU nearly all the time (same session, so nice applies between them). Returns its pid.
 */
async function starvedProcess(t: Test): Promise<number> {
  const loop = ['sh', '-c', 'while :; do :; done'];
  const victim = execa('nice', ['-n', '19', 'taskset', '-c', '0', ...loop], { reject: false });
  const hog = execa('taskset', ['-c', '0', ...loop], { reject: false });
  t.teardown(() => {
    victim.kill('SIGKILL');
    hog.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 100));
  return victim.pid!;
}

t.test('the watch: a process kept waiting for a CPU makes one long stretch; an idle one none', async (t) => {
  const pid = await starvedProcess(t);
  const idle = execa('sleep', ['10'], { reject: false });
  t.teardown(() => idle.kill('SIGKILL'));
  const start = performance.now();
  const w = watchStarvation([{ name: 'busy', pid }, { name: 'idle', pid: idle.pid! }, { name: 'fake' }], () => performance.now() - start);
  await new Promise((r) => setTimeout(r, 1500));
  const samples = w.stop();
  t.same(w.stop(), samples, 'stop is idempotent');
  t.ok(samples.length >= 5, `${samples.length} samples in 1.5 s`);
  t.notOk('fake' in (samples[0]?.waitedMs ?? {}), 'a VM without a pid is not watched');
  const stretches = starvedStretches(samples);
  const busy = longestStretch(stretches.filter((s) => s.vm === 'busy'));
  t.ok(busy !== undefined && busy.ms >= 1000, `the starved process: ${busy?.ms.toFixed(0)} ms in one stretch`);
  t.same(stretches.filter((s) => s.vm === 'idle'), [], 'the sleeping process never waited');
});

t.test('the watch: a sample a second late (the whole machine paused) counts as waited for every VM', async (t) => {
  const idle = execa('sleep', ['10'], { reject: false });
  t.teardown(() => idle.kill('SIGKILL'));
  const start = performance.now();
  const w = watchStarvation([{ name: 'idle', pid: idle.pid! }], () => performance.now() - start);
  await new Promise((r) => setTimeout(r, 250));
  const until = performance.now() + 1300;
  while (performance.now() < until); // the harness holds its thread: no sample meanwhile
  await new Promise((r) => setTimeout(r, 250));
  const stretch = longestStretch(starvedStretches(w.stop()));
  t.ok(stretch !== undefined && stretch.ms >= 1100 && stretch.ms < 1500, `the idle VM waited ${stretch?.ms.toFixed(0)} ms, as long as the harness did not run`);
});

/** A fake lab driver whose target VM is `pid` (a starved process, or none), and the labs it booted. */
function starvedDriver(options: FakeLabOptions, pid: number | undefined): { driver: LabDriver; labs: FakeLab[] } {
  const labs: FakeLab[] = [];
  const base = new FakeLab().driver();
  const driver: LabDriver = {
    resolveKernel: (choice, opts) => base.resolveKernel(choice, opts),
    boot: () => {
      const lab = new FakeLab(options);
      if (pid !== undefined) lab.target.pid = pid;
      labs.push(lab);
      return Promise.resolve(lab);
    },
  };
  return { driver, labs };
}

t.test('the runner: a FAIL while the machine starved a VM is run again, and stays an ERROR when starved again', async (t) => {
  const { driver, labs } = starvedDriver({ onReset: 'deleted', deleteAfterMs: 50 }, await starvedProcess(t));
  const spec = parseScenario({ name: 'starved', side: 'host', reset: 'rdma-link', down_ms: 100, pre_ms: 2500, post_ms: 500, recovery_deadline_ms: 1000 });
  const lines: string[] = [];
  const resultsDir = tempDirSync('rb-starved-');
  const r = await runScenario(spec, { kernel: 'stock', resultsDir, iteration: 1, project: '/project', progress: (m) => lines.push(m) }, driver);
  t.equal(labs.length, 2, 'two attempts');
  t.equal(r.verdict, 'ERROR', r.reason);
  t.match(r.reason, /^second attempt \(the first FAILed while this machine kept the target VM off the CPU for [\d.]+ s from [\d.]+ s \(.*\); its files are in first-attempt\/\): this machine kept the target VM off the CPU .*\(it was: .*deleted/);
  t.ok(lines.some((l) => /^starved \[stock\]: ERROR: this machine kept .*; running it again$/.test(l)), 'the first attempt\'s ERROR is said, and that it runs again');
  t.ok(r.events.some((e) => e.kind === 'starved' && e.vm === 'target'), 'the stretch is on the timeline');
  t.match(r.reason, /; its files are in first-attempt\/\)/, 'the reason says where the first attempt\'s files are');
  const runDir = join(resultsDir, 'runs', 'starved-stock-1');
  for (const f of ['timeline.json', 'loader.json']) {
    t.ok(existsSync(join(runDir, f)) && existsSync(join(runDir, FIRST_ATTEMPT_DIR, f)), `${f}: the second attempt's in the run directory, the first's set aside`);
  }
});

t.test('the runner: a harness ERROR while the machine starved a VM is run again; without starvation it is not', async (t) => {
  const options: FakeLabOptions = { onReset: 'recovers', reconnectMs: 50, loader: { noFinalPass: true } };
  const spec = parseScenario({ name: 'starved-error', side: 'host', reset: 'rdma-link', down_ms: 100, pre_ms: 2500, post_ms: 500 });
  const run = (driver: LabDriver): Promise<RunResult> => runScenario(spec, { kernel: 'stock', resultsDir: tempDirSync('rb-starved-err-'), iteration: 1, project: '/project' }, driver);

  const starved = starvedDriver(options, await starvedProcess(t));
  const r = await run(starved.driver);
  t.equal(starved.labs.length, 2, 'two attempts');
  t.equal(r.verdict, 'ERROR', r.reason);
  t.match(r.reason, /^second attempt \(the first ended in an ERROR while this machine kept the target VM off the CPU .*; its files are in first-attempt\/\): this machine kept the target VM off the CPU .*; the harness gave up meanwhile: the ERROR may be the machine's \(it was: the loader in host ended without its final verify pass/);

  const calm = starvedDriver(options, undefined);
  const c = await run(calm.driver);
  t.equal(calm.labs.length, 1, 'one attempt');
  t.equal(c.verdict, 'ERROR');
  t.match(c.reason, /^the loader in host ended without its final verify pass/, 'the harness\'s own reason, nothing added');
});
