import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInitramfs } from '../../src/vm/initramfs.js';
import { readCpio } from '../helpers/cpio-reader.js';

t.test('the initramfs has busybox, /dev/console, init and the stage-1 modules in load order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-initramfs-'));
  const mods = join(dir, 'lib/modules/6.1.0-test');
  mkdirSync(join(mods, 'kernel'), { recursive: true });
  const ko = ['virtio_ring', 'virtio', 'virtio_pci', '9pnet', 'netfs', '9p', '9pnet_virtio', 'overlay'];
  for (const m of ko) writeFileSync(join(mods, 'kernel', `${m}.ko`), `ELF-${m}`);
  writeFileSync(
    join(mods, 'modules.dep'),
    [
      'kernel/virtio_pci.ko: kernel/virtio.ko kernel/virtio_ring.ko',
      'kernel/virtio.ko: kernel/virtio_ring.ko',
      'kernel/virtio_ring.ko:',
      'kernel/9pnet.ko:',
      'kernel/netfs.ko:',
      'kernel/9p.ko: kernel/9pnet.ko kernel/netfs.ko',
      'kernel/9pnet_virtio.ko: kernel/9pnet.ko kernel/virtio.ko kernel/virtio_ring.ko',
      'kernel/overlay.ko:',
    ].join('\n'),
  );
  writeFileSync(join(mods, 'modules.builtin'), 'kernel/fs/overlayfs/overlay.ko\n');
  writeFileSync(join(dir, 'init'), '#!/bin/busybox sh\n');
  writeFileSync(join(dir, 'busybox'), 'BUSYBOX');
  const entries = readCpio(await buildInitramfs({ modulesDir: mods, initScript: join(dir, 'init'), busybox: join(dir, 'busybox') }));
  const byPath = new Map(entries.map((e) => [e.path, e]));
  t.equal(byPath.get('bin/busybox')?.data.toString(), 'BUSYBOX');
  t.equal(byPath.get('bin/busybox')!.mode & 0o777, 0o755);
  t.same(byPath.get('dev/console')?.rdev, [5, 1]);
  t.equal(byPath.get('init')!.mode & 0o777, 0o755);
  const order = byPath.get('mods/order')!.data.toString().trim().split('\n');
  t.same(order, ['virtio_ring', 'virtio', 'virtio_pci', '9pnet', '9pnet_virtio', 'netfs', '9p'], 'dependencies first; built-in overlay skipped');
  for (const m of order) t.equal(byPath.get(`mods/${m}.ko`)?.data.toString(), `ELF-${m}`);
  t.notOk(byPath.has('mods/overlay.ko'));
});
