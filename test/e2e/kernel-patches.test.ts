// The series in kernel-patches/ against the kernel the lab builds: checkpatch --strict
// clean, and every patch building on its own (W=1, applied one at a time).
import { join } from 'node:path';
import t from 'tap';
import { execa } from 'execa';
import { cacheDir } from '../../src/kernel/cache.js';
import { findFetched } from '../../src/kernel/debian.js';
import { listPatches } from '../../src/kernel/module-build.js';
import { project } from '../helpers/lab.js';

const dir = join(project, 'kernel-patches');
const patches = await listPatches(dir);
const fetched = await findFetched(cacheDir());
const skip = fetched ? false : 'no kernel in the cache: run `reset-bench kernel fetch`';

/** The script's "ok" line for a patch, or '' when there is none. */
const okLine = (out: string, patch: string): string => out.split('\n').find((l) => /^ok +/.test(l) && l.includes(` ${patch}: `)) ?? '';

t.ok(patches.length > 0, 'the series has patches');

t.test('checkpatch.pl --strict reports nothing on any patch', { skip }, async (t) => {
  const r = await execa('bash', [join(dir, 'check.sh'), fetched!.layout.source], { reject: false, all: true });
  t.equal(r.exitCode, 0, String(r.all));
  for (const p of patches) t.match(okLine(r.all, p), /: total: 0 errors, 0 warnings/, p);
});

t.test('every patch builds on its own with W=1', { skip }, async (t) => {
  const r = await execa('bash', [join(dir, 'build-each.sh'), fetched!.layout.source, fetched!.layout.headers], {
    reject: false,
    all: true,
    timeout: 1_500_000,
  });
  t.equal(r.exitCode, 0, String(r.all));
  for (const p of patches) t.match(okLine(r.all, p), /: \S+ builds, W=1 clean/, p);
  t.notMatch(r.all, /^FAIL/m, 'no patch failed');
});
