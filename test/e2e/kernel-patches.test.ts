// Each series in kernel-patches/<series>/ against the kernel the lab builds for it:
// checkpatch --strict clean and every patch building on its own (W=1, applied one at a
// time), walked from its series file with the cover letters skipped. A series whose
// kernel is not in the cache is skipped, saying how to fetch it; a series with a set
// that has no patches yet must be refused by both scripts (exit 2, naming the set).
import { join } from 'node:path';
import t from 'tap';
import { execa } from 'execa';
import { cacheDir } from '../../src/kernel/cache.js';
import { seriesPatches, type SeriesPatch } from '../../src/kernel/series.js';
import { UsageError } from '../../src/util/errors.js';
import { cachedSeries, project } from '../helpers/lab.js';

const root = join(project, 'kernel-patches');

/** The script's "ok" line for a patch, or '' when there is none. */
const okLine = (out: string, patch: string): string => out.split('\n').find((l) => /^ok +/.test(l) && l.includes(` ${patch}: `)) ?? '';

for (const series of ['6.1', '6.12']) {
  const dir = join(root, series);
  const fetched = await cachedSeries({ cache: cacheDir(), series });
  const skip = fetched ? false : `no ${series} kernel in the cache: run \`reset-bench kernel fetch --series ${series}\``;
  let patches: SeriesPatch[] | undefined;
  let missing: UsageError | undefined;
  try {
    patches = await seriesPatches(dir);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    missing = e;
  }

  t.test(`${series}: the series file lists patches, no cover letter among them`, async (t) => {
    if (missing) {
      // The 6.12 sets are being written: until they are, the series must say which one is empty.
      t.match(missing.message, /series:\d+: (set '[^']+' has no patches yet|'[^']+' is neither a patch file nor a set directory)/);
      return;
    }
    t.ok(patches!.length > 0, 'the series has patches');
    t.notOk(patches!.some((p) => /(^|\/)0000-/.test(p.name)), 'cover letters are skipped');
  });

  if (missing) {
    t.test(`${series}: check.sh and build-each.sh refuse a series with an empty or missing set`, { skip }, async (t) => {
      const c = await execa('bash', [join(root, 'check.sh'), dir, fetched!.layout.source], { reject: false, all: true });
      t.equal(c.exitCode, 2, c.all);
      t.match(c.all, /series:\d+: /);
      const b = await execa('bash', [join(root, 'build-each.sh'), dir, fetched!.layout.source, fetched!.layout.headers], { reject: false, all: true });
      t.equal(b.exitCode, 2, b.all);
      t.match(b.all, /series:\d+: /);
    });
    continue;
  }

  t.test(`${series}: checkpatch.pl --strict reports nothing on any patch`, { skip }, async (t) => {
    const r = await execa('bash', [join(root, 'check.sh'), dir, fetched!.layout.source], { reject: false, all: true });
    t.equal(r.exitCode, 0, String(r.all));
    for (const p of patches!) t.match(okLine(r.all, p.name), /: total: 0 errors, 0 warnings/, p.name);
    t.notMatch(r.all, / 0000-/, 'no cover letter was checked');
  });

  t.test(`${series}: every patch builds on its own with W=1`, { skip }, async (t) => {
    const r = await execa('bash', [join(root, 'build-each.sh'), dir, fetched!.layout.source, fetched!.layout.headers], {
      reject: false,
      all: true,
      timeout: 1_500_000,
    });
    t.equal(r.exitCode, 0, String(r.all));
    for (const p of patches!) t.match(okLine(r.all, p.name), /: \S+ builds, W=1 clean/, p.name);
    t.notMatch(r.all, /^FAIL/m, 'no patch failed');
  });
}
