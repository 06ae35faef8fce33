// The agent's process runner (src/guest/spawn.ts) on real processes.
import t from 'tap';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/guest/spawn.js';

const run = (argv: string[], more: Partial<Parameters<typeof runProcess>[0]> = {}) => runProcess({ argv, deadlineMs: 5000, maxBuffer: 1 << 20, ...more });

t.test('exit code, stdout and stderr as written, input on stdin, env added to the agent environment', async (t) => {
  const r = await run(['sh', '-c', 'cat; printf "%s/%s" "$X" "${PATH:+path}" >&2; exit 7'], { input: 'a\nb\n', env: { X: 'x' } });
  t.same(r, { exitCode: 7, stdout: 'a\nb\n', stderr: 'x/path', timedOut: false });
});

t.test('no input: stdin is at its end, so a reader does not hang', async (t) => {
  const r = await run(['cat'], { deadlineMs: 2000 });
  t.same([r.exitCode, r.stdout, r.timedOut], [0, '', false]);
});

t.test('cwd', async (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rb-spawn-')));
  t.equal((await run(['pwd'], { cwd: dir })).stdout, `${dir}\n`);
});

t.test('a process past its deadline is killed and says so', async (t) => {
  const start = Date.now();
  const r = await run(['sleep', '30'], { deadlineMs: 200 });
  t.equal(r.timedOut, true);
  t.equal(r.signal, 'SIGTERM');
  t.equal(r.exitCode, -1);
  t.ok(Date.now() - start < 5000, 'ended at the deadline, not at the end of the sleep');
});

t.test('a process that ignores SIGTERM is killed after the grace period', { timeout: 20_000 }, async (t) => {
  const r = await run(['sh', '-c', 'trap "" TERM; sleep 8'], { deadlineMs: 100 });
  t.same([r.timedOut, r.signal], [true, 'SIGKILL']);
});

t.test('a signal is reported with exit code -1', async (t) => {
  const r = await run(['sh', '-c', 'kill -USR1 $$']);
  t.same([r.exitCode, r.signal, r.timedOut], [-1, 'SIGUSR1', false]);
});

t.test('output past maxBuffer is an error, not a silent cut', async (t) => {
  await t.rejects(run(['head', '-c', '100000', '/dev/zero'], { maxBuffer: 1000 }), { code: 'ENOBUFS', message: /passed 1000 bytes/ });
});

t.test('a program that cannot start rejects with its errno and path', async (t) => {
  await t.rejects(run(['/nonexistent/tool']), { code: 'ENOENT', path: '/nonexistent/tool' });
  const dir = mkdtempSync(join(tmpdir(), 'rb-spawn-'));
  await t.rejects(run([dir]), { code: 'EACCES' });
});

t.test('a grandchild holding the pipes does not hold the result past the deadline', async (t) => {
  const start = Date.now();
  const r = await run(['sh', '-c', 'sleep 8 & echo started'], { deadlineMs: 300 });
  t.equal(r.stdout, 'started\n');
  t.equal(r.exitCode, 0, 'the process itself ended well');
  t.equal(r.timedOut, true, 'but its output was cut at the deadline');
  t.ok(Date.now() - start < 5000);
});
