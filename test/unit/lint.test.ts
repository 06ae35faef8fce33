// Why: lint is part of `npm test` (and so of CI) without a separate CI step. This runs
// eslint (eslint.config.js: typescript-eslint's type-checked rules) over the whole tree
// and fails listing every finding as path:line:col rule message. A floating promise is
// the defect that matters most here: it turns into an unhandled rejection minutes later.
//
// Speed: --cache (content-keyed, in node_modules/.cache/eslint) re-lints only changed
// files. The cache keys a file by its own content, so a type change elsewhere can leave
// a stale result: files the cached run finds fault with are linted again without the
// cache, and only those findings count. A stale "clean" stays possible locally; CI
// starts from `npm ci` (no cache) and lints everything, as `npx eslint .` does.
import t from 'tap';
import { join } from 'node:path';
import { execa } from 'execa';
import { ESLint } from 'eslint';
import { z } from 'zod';

const root = join(import.meta.dirname, '..', '..');

const Results = z.array(
  z.object({
    filePath: z.string(),
    messages: z.array(
      z.object({ ruleId: z.string().nullable(), line: z.number().optional(), column: z.number().optional(), message: z.string() }),
    ),
  }),
);

async function eslint(args: string[]): Promise<z.infer<typeof Results>> {
  const r = await execa('eslint', ['--format', 'json', ...args], { cwd: root, preferLocal: true, reject: false });
  // 0: clean, 1: findings; anything else is eslint itself failing (bad config, crash).
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`eslint failed (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  return Results.parse(JSON.parse(r.stdout));
}

t.test('eslint finds nothing in the tree', async (t) => {
  const cache = join(root, 'node_modules', '.cache', 'eslint') + '/';
  let results = await eslint(['--cache', '--cache-strategy', 'content', '--cache-location', cache, '.']);
  const linted = results.map((f) => f.filePath.slice(root.length + 1));
  const faulted = results.filter((f) => f.messages.length > 0).map((f) => f.filePath);
  if (faulted.length > 0) results = await eslint(faulted); // the same files, without the cache
  // The config must really reach the code and the tests, not lint an empty set.
  for (const must of ['src/reset/hotplug.ts', 'src/guest/agent.ts', 'src/scenario/runner.ts', 'test/unit/lint.test.ts', 'eslint.config.js']) {
    t.ok(linted.includes(must), `${must} is linted`);
  }
  t.ok(linted.filter((p) => p.startsWith('src/')).length >= 80, `most of src/ is linted (${linted.length} files in all)`);
  const findings = results.flatMap((f) =>
    f.messages.map((m) => `${f.filePath.slice(root.length + 1)}:${m.line ?? 0}:${m.column ?? 0} ${m.ruleId ?? 'parse'} ${m.message}`),
  );
  t.same(findings, [], `eslint findings (${findings.length}):\n${findings.join('\n')}`);
});

t.test('the promise rules are errors in src/ and in test/', async (t) => {
  const eslint = new ESLint({ cwd: root });
  for (const file of ['src/reset/hotplug.ts', 'test/unit/qmp.test.ts']) {
    const cfg = (await eslint.calculateConfigForFile(join(root, file))) as { rules?: Record<string, unknown> };
    for (const rule of ['no-floating-promises', 'no-misused-promises', 'await-thenable']) {
      const setting = cfg.rules?.[`@typescript-eslint/${rule}`];
      const severity: unknown = Array.isArray(setting) ? setting[0] : setting;
      t.ok(severity === 2 || severity === 'error', `${rule} is an error for ${file} (got ${JSON.stringify(setting)})`);
    }
  }
});

// `tsc -p .` (the build) type-checks src/ only; eslint's type-checked rules read the
// types of test/ but do not report type errors. This keeps the tests' types honest too
// (test/tsconfig.json: test/ and the src/ it imports).
t.test('tsc finds no type error in test/', async (t) => {
  const r = await execa('tsc', ['--noEmit', '-p', 'test'], { cwd: root, preferLocal: true, reject: false });
  const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
  t.equal(r.exitCode, 0, `tsc --noEmit -p test: ${errors.length} error(s)\n${errors.join('\n')}${r.exitCode !== 0 && errors.length === 0 ? r.stdout + r.stderr : ''}`);
  t.same(errors, [], 'no error lines');
});
