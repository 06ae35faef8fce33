// The agent's runtime disk (src/vm/guest-runtime.ts): what ldd's output says a program
// loads (Debian's and another distribution's form of the loader's line), the
// initramfs's one link, the images kept, and a real image of the harness's own node.
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestRuntime, interpLink, parseLdd, pruneRuntimeImages } from '../../src/vm/guest-runtime.js';

const DEBIAN = `\tlinux-vdso.so.1 (0x00007ffd3c3f5000)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f287fe00000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f287fc1e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f2880154000)
`;
const ARCH = `\tlinux-vdso.so.1 (0x00007ffd3c3f5000)
\tlibc.so.6 => /usr/lib/libc.so.6 (0x00007f287fc1e000)
\t/lib64/ld-linux-x86-64.so.2 => /usr/lib64/ld-linux-x86-64.so.2 (0x00007f2880154000)
`;

t.test('ldd: libraries by the name the program asks for, and its loader by the path its ELF header names', async (t) => {
  t.same(parseLdd(DEBIAN), {
    libs: [
      { name: 'libstdc++.so.6', file: '/lib/x86_64-linux-gnu/libstdc++.so.6' },
      { name: 'libc.so.6', file: '/lib/x86_64-linux-gnu/libc.so.6' },
    ],
    interp: { path: '/lib64/ld-linux-x86-64.so.2', file: '/lib64/ld-linux-x86-64.so.2' },
  });
  t.same(parseLdd(ARCH).interp, { path: '/lib64/ld-linux-x86-64.so.2', file: '/usr/lib64/ld-linux-x86-64.so.2' }, 'the path the header names, the file it resolves to');
  t.throws(() => parseLdd('\tlibnode.so.108 => not found\n'), /ldd: libnode\.so\.108 not found/);
});

t.test("the initramfs's link: the loader's path, its directories first, to the mounted disk", async (t) => {
  t.same(interpLink('/lib64/ld-linux-x86-64.so.2'), [
    { kind: 'dir', path: 'lib64' },
    { kind: 'symlink', path: 'lib64/ld-linux-x86-64.so.2', target: '/.rb/rt/lib/ld-linux-x86-64.so.2' },
  ]);
});

t.test('the most recently used images are kept, by access time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-runtime-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [n, age] of [['a.img', 4], ['b.img', 1], ['c.img', 3], ['d.img', 2], ['notes.txt', 9]] as const) {
    writeFileSync(join(dir, n), n);
    const at = new Date(Date.now() - age * 60_000);
    utimesSync(join(dir, n), at, new Date(0));
  }
  await pruneRuntimeImages(dir, 2);
  t.same(readdirSync(dir).sort(), ['b.img', 'd.img', 'notes.txt']);
});

t.test("a real image: the harness's node and its libraries on ext2, built once, named by its files", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-runtime-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rt = await guestRuntime(dir);
  t.match(rt.image, /\/[0-9a-f]{32}\.img$/);
  t.match((await execa('debugfs', ['-R', 'ls -p /', rt.image])).stdout, /\/node\//, 'node is on the disk, by that name');
  const lib = (await execa('debugfs', ['-R', 'ls -p /lib', rt.image])).stdout;
  t.match(lib, /\/libc\.so\.6\//, 'libc, by the name node asks for');
  t.match(lib, /\/ld-linux-x86-64\.so\.2\//, 'and the dynamic loader');
  t.match((await execa('debugfs', ['-R', 'ls -p /addon', rt.image])).stdout, /\/reset_bench_native\.node\//, 'the native addon, where the agent loads it from');
  t.match(lib, /\/liburing\.so\.2\//, 'and the library it asks for');
  t.equal(await guestRuntime(dir), rt, 'the same one again');
  t.same(rt.links.at(-1), { kind: 'symlink', path: 'lib64/ld-linux-x86-64.so.2', target: '/.rb/rt/lib/ld-linux-x86-64.so.2' });
});
