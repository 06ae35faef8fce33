import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { controlFileOf, formatProgressLine, parseProgressLine, progressFileWriter, type ControlSignal } from '../../src/load/progress-file.js';
import { project } from '../helpers/lab.js';
import type { Progress } from '../../src/load/native.js';
import { uringUnavailable } from '../helpers/uring-scratch.js';

const p = (reads: number, writes: number, errors: number, nowNs: number): Progress => ({
  nowNs,
  elapsedNs: 0,
  reads,
  writes,
  errors,
  mismatches: 0,
  inflight: 8,
  lastCompletionNs: 0,
  iops: 0,
  phase: 'run',
});

t.test('a progress line counts successful reads and writes, not errors', async (t) => {
  const line = formatProgressLine(p(3, 40, 2, 123456789));
  t.equal(line, '43 2 123456789\n');
  t.same(parseProgressLine(line), { completed: 43, errors: 2, nowNs: 123456789 });
});

t.test('anything else is refused with the text it got', async (t) => {
  t.throws(() => parseProgressLine(''), /not a loader progress line: ""/);
  t.throws(() => parseProgressLine('43 2\n'), /not a loader progress line/);
  t.throws(() => parseProgressLine('-1 0 5\n'), /not a loader progress line/);
});

t.test('the writer replaces the file whole and leaves no temporary behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-progress-'));
  const file = join(dir, 'load.progress');
  const w = progressFileWriter(file);
  t.teardown(() => w.close());
  w(p(0, 1, 0, 10));
  w(p(5, 10, 1, 20));
  t.same(parseProgressLine(readFileSync(file, 'utf8')), { completed: 15, errors: 1, nowNs: 20 });
  t.same(readdirSync(dir).sort(), ['load.progress', 'load.progress.ctl'], 'the file and its (empty) control file');
});

t.test('the control file: the signal named there is sent once, a stale one is emptied, anything else ignored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-progress-'));
  const file = join(dir, 'load.progress');
  const ctl = controlFileOf(file);
  t.equal(ctl, `${file}.ctl`);
  writeFileSync(ctl, 'SIGINT');
  const sent: ControlSignal[] = [];
  const w = progressFileWriter(file, (s) => sent.push(s));
  t.teardown(() => w.close());
  t.equal(readFileSync(ctl, 'utf8'), '', "an earlier loader's control file is replaced by an empty one");
  w(p(0, 1, 0, 10));
  writeFileSync(ctl, 'SIGKILL\n');
  w(p(0, 2, 0, 20));
  t.same(sent, [], 'nothing asked, or nothing it knows');
  writeFileSync(ctl, 'SIGUSR2\n');
  w(p(0, 3, 0, 30));
  w(p(0, 4, 0, 40));
  t.same(sent, ['SIGUSR2'], 'sent once, not on every tick');
  writeFileSync(ctl, 'SIGINT');
  w(p(0, 5, 0, 50));
  t.same(sent, ['SIGUSR2', 'SIGINT']);
});

t.test('a write to the control file is acted on at once, with no progress tick; not after close()', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-progress-'));
  const file = join(dir, 'load.progress');
  const sent: ControlSignal[] = [];
  const w = progressFileWriter(file, (s) => sent.push(s));
  t.teardown(() => w.close());
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const seen = async (n: number): Promise<boolean> => {
    for (const end = Date.now() + 5000; Date.now() < end; ) {
      if (sent.length >= n) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  };
  writeFileSync(controlFileOf(file), 'SIGUSR2\n');
  t.ok(await seen(1), 'seen through the watch');
  t.same(sent, ['SIGUSR2']);
  w.close();
  writeFileSync(controlFileOf(file), 'SIGINT');
  await new Promise((r) => setTimeout(r, 300));
  t.same(sent, ['SIGUSR2'], 'closed: the watch no longer acts');
  w(p(0, 1, 0, 10));
  t.same(sent, ['SIGUSR2', 'SIGINT'], 'the tick still reads the control file');
});

t.test('the loader ends its I/O and reads back when SIGUSR2 is written to its control file', { skip: uringUnavailable() ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-progress-'));
  const progress = join(dir, 'load.progress');
  const main = join(project, 'src', 'cli', 'main.ts');
  const ts = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
  const args = ['load', '--filename', join(dir, 't.dat'), '--size', '1m', '--rw', 'randwrite', '--verify', '1', '--runtime', '60', '--rate-iops', '500', '--progress-file', progress, '--json'];
  const child = execa(process.execPath, [...ts, main, ...args], { reject: false, cwd: project });
  const start = Date.now();
  while (!existsSync(progress) && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 50));
  writeFileSync(controlFileOf(progress), 'SIGUSR2');
  const askedAt = Date.now();
  const r = await child;
  t.equal(r.exitCode, 0, r.stderr);
  t.ok(Date.now() - askedAt < 10_000, `ended ${Date.now() - askedAt} ms after it was asked, not at its 60 s runtime`);
  const out = JSON.parse(r.stdout) as { stoppedEarly: boolean; verify: { finalPass: { ran: boolean; ok: number; blocks: number } } };
  t.equal(out.verify.finalPass.ran, true, 'the final pass ran');
  t.ok(out.verify.finalPass.blocks > 0 && out.verify.finalPass.ok === out.verify.finalPass.blocks);
});
