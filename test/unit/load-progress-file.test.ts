import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { formatProgressLine, parseProgressLine, progressFileWriter } from '../../src/load/progress-file.js';
import type { Progress } from '../../src/load/native.js';

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
  w(p(0, 1, 0, 10));
  w(p(5, 10, 1, 20));
  t.same(parseProgressLine(readFileSync(file, 'utf8')), { completed: 15, errors: 1, nowNs: 20 });
  t.same(readdirSync(dir), ['load.progress']);
});
