// The series in kernel-patches/ against the kernel the lab builds: checkpatch --strict
// clean, and every patch building on its own (W=1, applied one at a time).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { execa } from 'execa';
import { cacheDir } from '../../src/kernel/cache.js';
import { findFetched } from '../../src/kernel/debian.js';
import { project } from '../helpers/lab.js';

const dir = join(project, 'kernel-patches');
const patches = readdirSync(dir).filter((f) => /^\d{4}-.*\.patch$/.test(f) && !f.startsWith('0000-'));
const fetched = await findFetched(cacheDir());

t.ok(patches.length > 0, 'the series has patches');

t.test('checkpatch.pl --strict reports nothing on any patch', { skip: fetched ? false : 'no kernel in the cache: run `reset-bench kernel fetch`' }, async (t) => {
  const r = await execa('bash', [join(dir, 'check.sh'), fetched!.layout.source], { reject: false, all: true });
  t.equal(r.exitCode, 0, String(r.all));
  for (const p of patches) t.match(r.all, new RegExp(`^ok +${p.replace(/[.+]/g, '\\$&')}: total: 0 errors, 0 warnings`, 'm'), p);
});

t.test('every patch builds on its own with W=1', { skip: fetched ? false : 'no kernel in the cache' }, async (t) => {
  const r = await execa('bash', [join(dir, 'build-each.sh'), fetched!.layout.source, fetched!.layout.headers], {
    reject: false,
    all: true,
    timeout: 1_500_000,
  });
  t.equal(r.exitCode, 0, String(r.all));
  for (const p of patches) t.match(r.all, new RegExp(`^ok +${p.replace(/[.+]/g, '\\$&')}: \\S+ builds, W=1 clean`, 'm'), p);
  t.notMatch(r.all, /^FAIL/m, 'no patch failed');
});
