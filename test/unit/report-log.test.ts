// reset-bench.log: exactly one "run done" line per run with its verdict, and a summary
// line at the end, written through the real pino file logger the CLI uses.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { logRunDone, logSummary, verdictCounts } from '../../src/report/log-lines.js';
import { createLogger } from '../../src/util/logger.js';
import { failRun, passRun } from './report-fixtures.js';

t.test('one line per run with its verdict, a summary line last', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rb-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'reset-bench.log');
  const log = createLogger({ file, quiet: true });
  const runs = [failRun(), passRun(), passRun({ scenario: 'target-hotplug', verdict: 'ERROR', reason: 'guest hung' })];
  log.info({ plan: 3 }, 'plan');
  for (const r of runs) {
    log.debug({ detail: true }, 'something in between');
    logRunDone(log, r);
  }
  logSummary(log, runs, 3, dir);
  const lines = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const done = lines.filter((l) => l.msg === 'run done');
  t.same(
    done.map((l) => [l.scenario, l.kernel, l.iteration, l.verdict]),
    [
      ['host-rdma-link', 'stock', 1, 'FAIL'],
      ['host-rdma-link', 'patched', 1, 'PASS'],
      ['target-hotplug', 'patched', 1, 'ERROR'],
    ],
  );
  t.same(
    done.map((l) => l.level),
    [40, 30, 50],
    'FAIL warns, PASS informs, ERROR is an error',
  );
  t.equal(done[0]!.reason, failRun().reason);
  t.same((done[0]!.metrics as Record<string, unknown>).recovery_ms, null);
  const last = lines[lines.length - 1]!;
  t.equal(last.msg, 'summary');
  t.same(last.verdicts, { PASS: 1, FAIL: 1, ERROR: 1, SKIP: 0 });
  t.equal(last.runs, 3);
  t.equal(last.exit_code, 3);
  t.same(verdictCounts([]), { PASS: 0, FAIL: 0, ERROR: 0, SKIP: 0 });
});
