import t from 'tap';
import { writeCpio } from '../../src/vm/cpio.js';
import { readCpio } from '../helpers/cpio-reader.js';

t.test('newc header layout is what the kernel expects', async (t) => {
  const buf = writeCpio([{ kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 }]);
  t.equal(buf.toString('latin1', 0, 6), '070701', 'newc magic');
  // fields: ino mode uid gid nlink mtime filesize devmaj devmin rdevmaj rdevmin namesize check
  const field = (i: number): number => parseInt(buf.toString('latin1', 6 + i * 8, 14 + i * 8), 16);
  t.equal(field(1), 0o100755, 'regular file with mode 0755');
  t.equal(field(6), 10, 'file size');
  t.equal(field(11), 5, 'name size counts the NUL');
  t.equal(buf.toString('latin1', 110, 115), 'init\0');
  t.equal(buf.toString('latin1', 116, 126), '#!/bin/sh\n', 'data starts 4-aligned after the name');
  t.equal(buf.length % 4, 0, 'archive length is 4-aligned');
  t.match(buf.toString('latin1'), /TRAILER!!!\0/, 'ends with the trailer');
});

t.test('round trip of every entry kind, device numbers included', async (t) => {
  const entries = readCpio(
    writeCpio([
      { kind: 'dir', path: '/dev' },
      { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'file', path: 'odd', data: Buffer.from('abc') },
    ]),
  );
  t.same(
    entries.map((e) => [e.path, e.mode.toString(8), e.data.toString(), e.rdev]),
    [
      ['dev', '40755', '', [0, 0]],
      ['dev/console', '20600', '', [5, 1]],
      ['bin/sh', '120777', 'busybox', [0, 0]],
      ['odd', '100644', 'abc', [0, 0]],
    ],
  );
});

t.test('rejects an empty path', async (t) => {
  t.throws(() => writeCpio([{ kind: 'dir', path: '/' }]), /empty path/);
});
