// Why: lint is part of `npm test` (and so of CI) without a separate CI step. This runs
// eslint (eslint.config.js: typescript-eslint's type-checked rules) over the whole tree
// and fails listing every finding as path:line:col rule message. A floating promise is
// the defect that matters most here: it turns into an unhandled rejection minutes later.
//
// Speed: --cache (content-keyed, in node_modules/.cache/eslint) re-lints only changed
// files. A type change can create a finding in a file that did not change; CI starts
// from `npm ci` (no cache), so it always lints everything. Locally `npx eslint .` does.
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

t.test('eslint finds nothing in the tree', async (t) => {
  const cache = join(root, 'node_modules', '.cache', 'eslint') + '/';
  const r = await execa('eslint', ['--cache', '--cache-strategy', 'content', '--cache-location', cache, '--format', 'json', '.'], {
    cwd: root,
    preferLocal: true,
    reject: false,
  });
  // 0: clean, 1: findings; anything else is eslint itself failing (bad config, crash).
  t.ok(r.exitCode === 0 || r.exitCode === 1, `eslint ran (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  const results = Results.parse(JSON.parse(r.stdout));
  const linted = results.map((f) => f.filePath.slice(root.length + 1));
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
