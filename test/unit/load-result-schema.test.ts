// The loader's result crosses from the guest to the host as JSON: the host checks it
// against the contract (zod) instead of casting it. Real results pass unchanged; a result
// with a field missing, of the wrong type or version is a HarnessError naming the field.
import t from 'tap';
import { join } from 'node:path';
import { parseLoadResult, warmLoadResultSchema } from '../../src/load/result-schema.js';
import { resultToJson, runLoad } from '../../src/load/run.js';
import { HarnessError } from '../../src/util/errors.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-result-');
if (dir) {
  const f = join(dir, 'r.dat');
  let text = '';

  t.before(async () => {
    const w = await runLoad({ filename: f, rw: 'randrw', size: '1m', runtimeMs: 300, verify: true, seed: 3 });
    text = resultToJson(w);
  });

  t.test('real results pass unchanged', async (t) => {
    t.same(parseLoadResult(text), JSON.parse(text));
    const v = await runLoad({ filename: f, rw: 'read', size: '1m', iodepth: 4, ios: 10 });
    t.same(parseLoadResult(resultToJson(v)), JSON.parse(resultToJson(v)), 'a run without verify too');
  });

  const broken: [string, (r: Record<string, any>) => void, RegExp][] = [
    ['another version', (r) => (r.version = 2), /version/],
    ['no final pass', (r) => delete r.verify.finalPass, /verify\.finalPass/],
    ['a count as a string', (r) => (r.read.ios = '5'), /read\.ios/],
    ['a negative count', (r) => (r.ioErrors = -1), /ioErrors/],
    ['an unknown mismatch kind', (r) => (r.verify.runMismatches = { ...r.verify.runMismatches, lost: 'x' }), /verify\.runMismatches\.lost/],
    ['timeline columns of different lengths', (r) => r.timeline.writes.push(1), /timeline columns differ/],
    ['a negative number in a timeline column', (r) => (r.timeline.p99Ns[0] = -1), /non-negative numbers\n.*at timeline\.p99Ns/],
    ['a string in a timeline column', (r) => (r.timeline.reads[0] = '1'), /non-negative numbers\n.*at timeline\.reads/],
    ['a timeline column that is no array', (r) => (r.timeline.errors = { 0: 1 }), /non-negative numbers\n.*at timeline\.errors/],
  ];
  for (const [name, edit, where] of broken)
    t.test(`${name}: HarnessError naming the field`, async (t) => {
      const r = JSON.parse(text) as Record<string, any>;
      edit(r);
      t.throws(() => parseLoadResult(JSON.stringify(r), 'the loader in host'), HarnessError);
      t.throws(() => parseLoadResult(JSON.stringify(r), 'the loader in host'), { message: /^the loader in host printed a result that breaks the loader contract/ });
      t.throws(() => parseLoadResult(JSON.stringify(r)), { message: where });
    });

  t.test('the warm-up before a run leaves the schema as it was', async (t) => {
    warmLoadResultSchema();
    t.same(parseLoadResult(text), JSON.parse(text));
  });

  t.test('not JSON at all', async (t) => {
    t.throws(() => parseLoadResult('reset-bench load: --bs: ...', 'the loader in host'), { message: /^the loader in host printed no JSON/ });
  });
}
