// The runner's `load --job ...` command line is read without commander (src/cli/load-fast.ts):
// exactly the runner's form, and nothing else, takes that path, and it does what the
// commander path does with the same job (the same result, the same state, the same error).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { runnerLoadOptions } from '../../src/cli/load-fast.js';
import { jobDocument } from '../../src/load/job-doc.js';
import { parseLoadResult } from '../../src/load/result-schema.js';
import { loaderJob, PROGRESS_FILE } from '../../src/scenario/loader.js';
import { project } from '../helpers/lab.js';
import { quickSpec } from '../helpers/fake-lab-context.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

t.test("the runner's command line, and only it, is read without commander", async (t) => {
  const job = loaderJob(quickSpec(), '/dev/nvme0n1', 1000);
  const argv = ['node', '/p/main.js', 'load', '--job', job, '--progress-file', PROGRESS_FILE, '--json', '--compact'];
  t.same(runnerLoadOptions(argv.slice(2)), { job, progressFile: '/tmp/reset-bench-load.progress', json: true, compact: true });
  t.same(runnerLoadOptions(['load', '--state', 's', '--job', '{}']), { state: 's', job: '{}' }, 'a state file too, in any order');
  const commander: [string, string[]][] = [
    ['no job', ['load', '--json']],
    ['help', ['load', '--job', '{}', '--help']],
    ['another option', ['load', '--job', '{}', '--iodepth', '8']],
    ['an option twice', ['load', '--job', '{}', '--job', '{}']],
    ['--json twice', ['load', '--job', '{}', '--json', '--json']],
    ['a missing value', ['load', '--json', '--job']],
    ['an option as the value', ['load', '--save-state', '--json', '--job', '{}']],
    ['a stray argument', ['load', '--job', '{}', 'extra']],
    ['another command', ['run', '--job', '{}']],
    ['load bench', ['load', 'bench', '--job', '{}']],
    ['nothing', []],
  ];
  for (const [what, args] of commander) t.equal(runnerLoadOptions(args), undefined, `${what}: commander reads it`);
});

const dir = uringScratchDir('rb-load-fast-');
if (dir) {
  const main = join(project, 'src', 'cli', 'main.ts');
  const ts = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
  const cli = (args: string[]) => execa(process.execPath, [...ts, main, ...args], { reject: false, cwd: project });

  t.test('both paths run the same job to the same result', async (t) => {
    const f = join(dir, 't.dat');
    const job = jobDocument({ filename: f, rw: 'write', bs: 4096, size: '256k', iodepth: 4, seed: 3, verify: true, verifyIodepth: 16 });
    const fast = await cli(['load', '--job', job, '--save-state', join(dir, 'fast.state'), '--json']);
    // --progress is not in the runner's form: this one goes through commander
    const slow = await cli(['load', '--job', job, '--save-state', join(dir, 'slow.state'), '--json', '--progress']);
    t.equal(fast.exitCode, 0, fast.stderr);
    t.equal(slow.exitCode, 0, slow.stderr);
    const a = parseLoadResult(fast.stdout);
    const b = parseLoadResult(slow.stdout);
    t.same(a.spec, b.spec, 'the same job');
    t.equal(a.verify.finalPass.checked, 64);
    t.equal(a.verify.finalPass.iodepth, 16);
    t.same([a.write.ios, a.verify.finalPass.ok], [b.write.ios, b.verify.finalPass.ok]);
    t.same(readFileSync(join(dir, 'fast.state')), readFileSync(join(dir, 'slow.state')), 'the same state saved');
  });

  t.test('both paths refuse a bad job the same way', async (t) => {
    const bad = jobDocument({ filename: join(dir, 'b.dat'), iodepth: 0 });
    const fast = await cli(['load', '--job', bad, '--json']);
    const slow = await cli(['load', '--job', bad, '--json', '--progress']);
    t.equal(fast.exitCode, 2);
    t.equal(slow.exitCode, 2);
    t.match(fast.stderr, /^reset-bench load: --job: iodepth: /);
    t.equal(fast.stderr.trim(), slow.stderr.trim(), 'the same message (--progress ends its line)');
  });
}
