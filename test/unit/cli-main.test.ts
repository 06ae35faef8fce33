// The entry point imports only the module of the command being run (the loader starts
// in the guest, under TCG); help, errors and exit codes must not notice.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { project } from '../helpers/lab.js';

const main = join(project, 'src', 'cli', 'main.ts');
// The same TypeScript loader tap runs this test with.
const loader = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
const rb = (args: string[]) => execa(process.execPath, [...loader, main, ...args], { reject: false, cwd: project });

t.test('top-level help lists every command, in order', async (t) => {
  const r = await rb(['--help']);
  t.equal(r.exitCode, 0);
  const names = [...String(r.stdout).matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]);
  t.same(names, ['kernel', 'vm', 'run', 'compare', 'list', 'load', 'report', 'merge', 'bench', 'help']);
});

t.test('load on its own: help, usage errors, exit codes', async (t) => {
  const help = await rb(['load', '--help']);
  t.equal(help.exitCode, 0);
  t.match(help.stdout, /^Usage: reset-bench load \[options\] \[command\]/);
  const bogus = await rb(['load', '--bogus']);
  t.equal(bogus.exitCode, 2);
  t.match(bogus.stderr, /unknown option '--bogus'/);
  const bad = await rb(['load', '--filename', '/nonexistent', '--iodepth', '0']);
  t.equal(bad.exitCode, 2);
  t.equal(bad.stderr, 'reset-bench load: --iodepth: Too small: expected number to be >=1');
});

t.test('the loader a run starts in the guest imports no zod, execa or pino (each costs seconds under TCG)', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'rb-imports-')), 'urls');
  const trace = join(project, 'test', 'helpers', 'import-trace.mjs');
  const r = await execa(process.execPath, [...loader, '--import', trace, main, 'load', '--help'], { reject: false, cwd: project, env: { RB_IMPORT_TRACE: out } });
  t.equal(r.exitCode, 0);
  const urls = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  t.ok(urls.some((u) => u.endsWith('/cli/load-command.ts')), 'the trace sees the command module');
  t.same(urls.filter((u) => /\/node_modules\/(zod|execa|pino)\//.test(u)), []);
});

t.test('an unknown command still gets the full list and exit 2', async (t) => {
  const r = await rb(['lod']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /unknown command 'lod'/);
  t.match(r.stderr, /\(Did you mean load\?\)/);
});
