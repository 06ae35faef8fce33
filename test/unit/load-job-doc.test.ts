// The job as one JSON document (load --job): what the host writes is what the loader runs,
// checked once, with errors naming --job and the field.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { jobDocument, parseJobDocument, parseJobOption } from '../../src/load/job-doc.js';
import { parseLoadResult } from '../../src/load/result-schema.js';
import { parseJobSpec } from '../../src/load/spec.js';
import { UsageError } from '../../src/util/errors.js';
import { project } from '../helpers/lab.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-jobdoc-');
if (dir) {
  const f = join(dir, 'j.dat');

  t.test('a document round-trips to the spec parseJobSpec gives', async (t) => {
    const job = { filename: f, rw: 'randwrite', bs: '8k', size: '1m', runtimeMs: 1500, intervalMs: 10, verify: true } as const;
    t.same(parseJobDocument(jobDocument(job)), parseJobSpec(job));
    const st = new Uint8Array(64);
    t.throws(() => jobDocument({ ...job, state: st } as never), TypeError, 'a state buffer never goes into JSON');
  });

  t.test("a stop's own drain crosses in the document; absent stays absent", async (t) => {
    const job = { filename: f, drainTimeoutMs: 20_000, stopDrainTimeoutMs: '2s' } as const;
    const s = parseJobDocument(jobDocument(job));
    t.same(s, parseJobSpec(job));
    t.same([s.drainTimeoutMs, s.stopDrainTimeoutMs], [20_000, 2000]);
    t.notOk('stopDrainTimeoutMs' in parseJobDocument(jobDocument({ filename: f, drainTimeoutMs: 20_000 })), 'not made up when not given');
    t.throws(() => parseJobDocument(`{"filename":"x","stopDrainTimeoutMs":"later"}`), { field: 'stopDrainTimeoutMs', message: /^stopDrainTimeoutMs: not a duration/ });
  });

  t.test('bad documents: UsageError naming --job or the field', async (t) => {
    t.throws(() => parseJobDocument('{"filename":'), { field: '--job', message: /not a JSON job document/ });
    t.throws(() => parseJobDocument('[1]'), { field: '--job', message: /expected a JSON object/ });
    t.throws(() => parseJobDocument('{"filename":"x","state":"AAAA"}'), { field: '--job', message: /--state/ });
    t.throws(() => parseJobDocument('{"filename":"x","iodepth":0}'), UsageError);
    t.throws(() => parseJobDocument('{"filename":"x","iodepth":0}'), { field: 'iodepth', message: /^iodepth: Too small/ });
  });

  t.test('reset-bench load --job: runs the document; bad ones exit 2 naming --job', async (t) => {
    const main = join(project, 'src', 'cli', 'main.ts');
    const loader = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
    const rb = (args: string[]) => execa(process.execPath, [...loader, main, 'load', ...args], { reject: false, cwd: project });
    const stateFile = join(dir, 'j.state');
    const w = await rb(['--job', jobDocument({ filename: f, rw: 'randwrite', size: '1m', ios: 300, verify: true, seed: 5, stopDrainTimeoutMs: 1500 }), '--save-state', stateFile, '--json']);
    t.equal(w.exitCode, 0, w.stderr);
    const res = parseLoadResult(w.stdout);
    t.equal(res.write.ios, 300);
    t.equal(res.spec.seed, 5);
    t.equal(res.spec.stopDrainTimeoutMs, 1500, "the loader echoes its stop's drain");
    t.ok(res.verify.finalPass.ran);
    const rd = await rb(['--job', jobDocument({ filename: f, rw: 'read', size: '1m', verify: true, seed: 5 }), '--state', stateFile, '--json']);
    t.equal(rd.exitCode, 0, rd.stderr);
    t.equal(parseLoadResult(rd.stdout).verify.errors, 0, 'the state of the first document checks the second job');
    const bad = await rb(['--job', '{"filename":"x","bs":1000}']);
    t.equal(bad.exitCode, 2);
    t.equal(bad.stderr.trim(), 'reset-bench load: --job: bs: must be a multiple of 512 between 512 and 64M, got 1000');
    const clash = await rb(['--job', '{"filename":"x"}', '--iodepth', '4']);
    t.equal(clash.exitCode, 2);
    t.match(clash.stderr, /--job: the document carries the whole job: give no --iodepth with it/);
    const clash2 = await rb(['--job', '{"filename":"x"}', '--stop-drain-timeout', '2s']);
    t.equal(clash2.exitCode, 2);
    t.match(clash2.stderr, /give no --stop-drain-timeout with it/);
    writeFileSync(join(dir, 'junk.state'), 'junk');
    const junk = await rb(['--job', jobDocument({ filename: f, rw: 'read', size: '1m', verify: true }), '--state', join(dir, 'junk.state')]);
    t.equal(junk.exitCode, 2);
    t.match(junk.stderr, /^reset-bench load: --state: truncated verify state/);
  });
}

t.test('parseJobOption: a field error names --job, with the field in its message', async (t) => {
  t.throws(() => parseJobOption('{"filename":"x","iodepth":0}'), { field: '--job', message: /^--job: iodepth: Too small/ });
  t.throws(() => parseJobOption('[1]'), { field: '--job', message: /expected a JSON object/ });
  t.equal(parseJobOption('{"filename":"x"}').filename, 'x');
});
