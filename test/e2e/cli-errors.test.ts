// Bad input: exit code 2, the field named, and nothing half-done left behind.
import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { project } from '../helpers/lab.js';

const cli = join(project, 'dist', 'cli', 'main.js');
const rb = (args: string[]) => execa('node', [cli, ...args], { reject: false, cwd: project });

t.test('a bad scenario file: exit 2, field named, no results directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-bad-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'name: my-case\nside: host\nreset: rdma-link\nload:\n  iodepth: 0\n');
  const out = join(dir, 'results');
  const r = await rb(['run', file, '--results', out]);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /load\.iodepth/);
  t.notOk(existsSync(out), 'no results directory was made');
});

t.test('unknown scenario, topology, shard and kernel directory are usage errors', async (t) => {
  const a = await rb(['run', 'host-nope']);
  t.equal(a.exitCode, 2);
  t.match(a.stderr, /unknown scenario "host-nope"/);
  const b = await rb(['vm', 'exec', '--topology', 'ring', '--', 'true']);
  t.equal(b.exitCode, 2);
  t.match(b.stderr, /--topology: unknown topology "ring"/);
  const c = await rb(['run', 'host-rdma-link', '--shard', '3/2']);
  t.equal(c.exitCode, 2);
  t.match(c.stderr, /--shard/);
  const d = await rb(['vm', 'exec', '--kernel', '/nonexistent', '--', 'true']);
  t.equal(d.exitCode, 2);
  t.match(d.stderr, /--kernel: \/nonexistent is not a directory/);
  const e = await rb(['run', '--repeat', '0']);
  t.equal(e.exitCode, 2);
  t.match(e.stderr, /--repeat/);
});

t.test('list prints the catalog, one per line', async (t) => {
  const r = await rb(['list']);
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^host-rdma-link\t/m);
  t.match(r.stdout, /^repeated-resets\t/m);
});
