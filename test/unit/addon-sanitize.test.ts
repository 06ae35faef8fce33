// The engine's tests against an ASan + UBSan build of the addon (scripts/sanitize-addon.mjs):
// an out-of-bounds read such as the one a corrupt --state file caused, a use after free, or
// undefined behaviour aborts the test that triggered it. Slow (minutes): the sanitized
// engine and a preloaded libasan under node.
import t from 'tap';
import { join } from 'node:path';
import { execa } from 'execa';
import { project } from '../helpers/lab.js';
import { uringUnavailable } from '../helpers/uring-scratch.js';

const why = uringUnavailable();
if (why !== undefined) {
  t.plan(0, `skip: ${why}`);
} else {
  t.test('engine tests pass under ASan + UBSan', { timeout: 1_500_000 }, async (t) => {
    const r = await execa(process.execPath, [join(project, 'scripts', 'sanitize-addon.mjs')], { reject: false, cwd: project, all: true });
    if (r.exitCode === 77) {
      t.skip(`no sanitizer runtime: ${r.stdout.trim()}`, () => undefined);
      return;
    }
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('sanitize-addon: '))) t.comment(line);
    t.equal(r.exitCode, 0, r.exitCode === 0 ? 'every test file passed' : String(r.all).slice(-6000));
    t.match(r.stdout, /^sanitize-addon: built build-asan\/build\/Release\/reset_bench_native\.node with ASan \+ UBSan/m);
    t.match(r.stdout, /^sanitize-addon: (\d+)\/\1 test files passed under ASan \+ UBSan$/m);
    t.notMatch(String(r.all), /ERROR: AddressSanitizer|runtime error:/, 'no sanitizer report');
  });
}
