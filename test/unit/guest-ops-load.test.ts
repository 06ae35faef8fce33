// The loader run by the agent (op load.run, src/guest/ops-load.ts): the job document's
// one check, the progress and control files the runner drives it by, and an answer
// shaped as the loader process's exit was.
import t from 'tap';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOps } from '../../src/guest/ops-load.js';
import type { ExecResult } from '../../src/guest/ops.js';
import { jobDocument } from '../../src/load/job-doc.js';
import { controlFileOf, parseProgressLine } from '../../src/load/progress-file.js';
import { parseLoadResult } from '../../src/load/result-schema.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const run = (args: Record<string, unknown>, deadlineMs = 60_000) => loadOps.run!(args, deadlineMs) as Promise<ExecResult>;

t.test('a malformed request is refused naming the argument', async (t) => {
  await t.rejects(run({ progressFile: '/tmp/x' }), { code: 'EINVAL', message: /job/ });
  await t.rejects(run({ job: '{}' }), { code: 'EINVAL', message: /progressFile/ });
});

const dir = uringScratchDir('rb-ops-load-');
if (dir) {
  const progressFile = join(dir, 'p');
  const waitFor = async (what: string, test: () => boolean): Promise<void> => {
    const end = Date.now() + 20_000;
    while (!test()) {
      if (Date.now() > end) throw new Error(`${what}: not within 20 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const completed = (): number => (existsSync(progressFile) ? parseProgressLine(readFileSync(progressFile, 'utf8')).completed : 0);

  /** A minute's job on a file, answered once I/O shows in the progress file (the last job's is removed first). */
  const started = async (file: string) => {
    rmSync(progressFile, { force: true });
    const job = jobDocument({ filename: join(dir, file), rw: 'randwrite', bs: 4096, size: '1m', iodepth: 4, runtimeMs: 60_000, verify: true, progressMs: 50 });
    const answer = run({ job, progressFile });
    await waitFor('I/O in the progress file', () => completed() > 0);
    return { job, answer };
  };

  t.test('the job runs until the control file says SIGUSR2, then reads every write back', async (t) => {
    const { answer } = await started('a.dat');
    writeFileSync(controlFileOf(progressFile), 'SIGUSR2');
    const r = await answer;
    t.equal(r.exitCode, 0, r.stderr);
    t.equal(r.timedOut, false);
    t.equal(r.stdout.split('\n').length, 2, 'one line of JSON, as --compact');
    const res = parseLoadResult(r.stdout);
    t.ok(res.verify.finalPass.ran, 'the final read-back ran');
    t.ok(res.write.ios > 0);
    t.equal(res.verify.errors, 0);
  });

  t.test('SIGINT stops it without the read-back; the deadline stops it and says so', async (t) => {
    const { job, answer } = await started('b.dat');
    writeFileSync(controlFileOf(progressFile), 'SIGINT');
    const r = await answer;
    t.equal(r.exitCode, 0, r.stderr);
    t.notOk(parseLoadResult(r.stdout).verify.finalPass.ran, 'no read-back');
    const late = await run({ job, progressFile }, 300);
    t.equal(late.timedOut, true, 'past its deadline');
    t.notOk(parseLoadResult(late.stdout).verify.finalPass.ran);
  });

  t.test('the deadline stops the job early enough for its stop drain and the answer', async (t) => {
    const job = jobDocument({ filename: join(dir, 'd.dat'), rw: 'randwrite', bs: 4096, size: '1m', iodepth: 4, runtimeMs: 60_000, stopDrainTimeoutMs: 200, progressMs: 50 });
    const t0 = Date.now();
    const r = await run({ job, progressFile }, 3000);
    const ms = Date.now() - t0;
    t.equal(r.timedOut, true);
    t.equal(r.exitCode, 0, r.stderr);
    // stopped at 3000 - (200 + 1000) ms: answered before the deadline, not at it
    t.ok(ms >= 1700 && ms < 3000, `answered ${ms} ms into a 3000 ms deadline`);
  });

  t.test('a bad job is an exit 2 naming --job and the field, as the command says it', async (t) => {
    const r = await run({ job: jobDocument({ filename: join(dir, 'c.dat'), iodepth: 0 }), progressFile });
    t.equal(r.exitCode, 2);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^reset-bench load: --job: iodepth: /);
  });
}
