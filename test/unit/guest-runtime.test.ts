// The agent's runtime disk (src/vm/guest-runtime.ts): which libraries ldd names, the
// initramfs's links to them, and a real image of the harness's own node.
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestRuntime, linkEntries, parseLdd } from '../../src/vm/guest-runtime.js';

const LDD = `\tlinux-vdso.so.1 (0x00007ffd3c3f5000)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f287fe00000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f287fc1e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f2880154000)
`;

t.test('ldd: the libraries by the path the loader looks for, and the loader itself; not the vDSO', async (t) => {
  t.same(
    parseLdd(LDD).map((l) => l.path),
    ['/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'],
  );
});

t.test("the initramfs's links: each path to its file on the mounted disk, their directories first", async (t) => {
  const e = linkEntries(parseLdd(LDD));
  t.same(e.filter((x) => x.kind === 'dir').map((x) => x.path), ['lib', 'lib/x86_64-linux-gnu', 'lib64']);
  t.same(
    e.flatMap((x) => (x.kind === 'symlink' ? [`${x.path} -> ${x.target}`] : [])),
    [
      'lib/x86_64-linux-gnu/libstdc++.so.6 -> /.rb/rt/lib/libstdc++.so.6',
      'lib/x86_64-linux-gnu/libc.so.6 -> /.rb/rt/lib/libc.so.6',
      'lib64/ld-linux-x86-64.so.2 -> /.rb/rt/lib/ld-linux-x86-64.so.2',
    ],
  );
});

t.test("a real image: the harness's node and its libraries on ext2, built once, named by its files", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-runtime-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rt = await guestRuntime(dir);
  t.match(rt.image, /\/[0-9a-f]{32}\.img$/);
  const ls = await execa('debugfs', ['-R', 'ls -p /lib', rt.image]);
  t.match(ls.stdout, /\/libc\.so\.6\//, 'libc is on the disk');
  t.match((await execa('debugfs', ['-R', 'ls -p /', rt.image])).stdout, /\/node\//, 'node is on the disk');
  t.equal(await guestRuntime(dir), rt, 'the same one again');
  t.ok(rt.links.some((l) => l.kind === 'symlink' && l.path === 'lib64/ld-linux-x86-64.so.2'), 'the dynamic loader is linked');
});
