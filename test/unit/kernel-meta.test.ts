import t from 'tap';
import { debVersionGreater, headersDeps, imageOfMeta, newestRecord, parseAptShow } from '../../src/kernel/debian.js';
import { loadOrder, parseModulesDep } from '../../src/kernel/modtree.js';
import { builtinNames } from '../../src/vm/initramfs.js';

const APT = `Package: linux-image-amd64
Source: linux-signed-amd64 (6.1.176+1)
Version: 6.1.176-1
Depends: linux-image-6.1.0-50-amd64 (= 6.1.176-1)
SHA256: aaaa

Package: linux-image-amd64
Version: 6.1.192-2
Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)
Description: Linux for 64-bit PCs (meta-package)
 This package depends on the latest Linux kernel.
SHA256: bbbb
`;

t.test('the newest meta-package (by dpkg) names the image ABI and the exact version', async (t) => {
  const recs = parseAptShow(APT);
  t.equal(recs.length, 2);
  const top = await newestRecord(recs);
  t.equal(top?.version, '6.1.192-2');
  t.same(imageOfMeta(top!.depends), { abi: '6.1.0-56-amd64', version: '6.1.192-2' });
  t.same(imageOfMeta('linux-image-6.12.117+deb12-amd64 (= 6.12.117-1~deb12u1)'), { abi: '6.12.117+deb12-amd64', version: '6.12.117-1~deb12u1' });
  t.equal(imageOfMeta('linux-base'), undefined);
  t.equal(await newestRecord([]), undefined);
});

t.test("the headers package's Depends name its -common and kbuild packages", async (t) => {
  t.same(headersDeps('linux-headers-6.1.0-57-common (= 6.1.192-3), linux-kbuild-6.1 (>= 6.1.192-3), linux-compiler-gcc-12-x86'), {
    common: 'linux-headers-6.1.0-57-common',
    kbuild: 'linux-kbuild-6.1',
    kbuildExact: undefined,
  });
  t.same(
    headersDeps(
      'linux-base (>= 4.12~), linux-headers-6.12.117+deb12-common (= 6.12.117-1~deb12u1), linux-image-6.12.117+deb12-amd64 (= 6.12.117-1~deb12u1) | linux-image-6.12.117+deb12-amd64-unsigned (= 6.12.117-1~deb12u1), linux-kbuild-6.12.117+deb12, gcc-12',
    ),
    { common: 'linux-headers-6.12.117+deb12-common', kbuild: 'linux-kbuild-6.12.117+deb12', kbuildExact: undefined },
  );
  t.equal(headersDeps('linux-kbuild-6.1 (= 6.1.192-2)').kbuildExact, '6.1.192-2');
});

t.test("Debian version order is dpkg's: epochs, tilde, revisions", async (t) => {
  t.ok(await debVersionGreater('6.1.192-2', '6.1.176-1'));
  t.ok(await debVersionGreater('6.1.10-1', '6.1.9-1'), 'numeric, not lexical');
  t.notOk(await debVersionGreater('6.1.192-2', '6.1.192-2'));
  t.ok(await debVersionGreater('6.12.117-1', '6.12.117-1~deb12u1'), '~ sorts before anything');
  t.ok(await debVersionGreater('1:6.1.1-1', '6.12.117-1'), 'an epoch wins');
  t.ok(await debVersionGreater('6.12.117-1~deb12u2', '6.12.117-1~deb12u1'));
});

const DEP = `kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/9p/9pnet.ko:
kernel/drivers/nvme/host/nvme-rdma.ko: kernel/drivers/nvme/host/nvme-fabrics.ko
kernel/drivers/nvme/host/nvme-fabrics.ko:
`;

t.test('modules load dependencies first, each once, dashes folded', async (t) => {
  const deps = parseModulesDep(DEP);
  t.same(deps.get('nvme_rdma'), { path: 'kernel/drivers/nvme/host/nvme-rdma.ko', deps: ['nvme_fabrics'] });
  const order = loadOrder(deps, ['virtio_pci', '9pnet_virtio', 'nvme-rdma']);
  t.same(order, [
    'virtio_pci_legacy_dev',
    'virtio_pci_modern_dev',
    'virtio_ring',
    'virtio',
    'virtio_pci',
    '9pnet',
    '9pnet_virtio',
    'nvme_fabrics',
    'nvme_rdma',
  ]);
  for (const m of order) {
    const before = order.slice(0, order.indexOf(m));
    for (const d of deps.get(m)!.deps) t.ok(before.includes(d), `${d} before ${m}`);
  }
  t.throws(() => loadOrder(deps, ['no_such']), /no_such is not in modules.dep/);
});

t.test('built-in modules are not loaded', async (t) => {
  t.same([...builtinNames('kernel/fs/configfs/configfs.ko\nkernel/drivers/virtio/virtio-mmio.ko\n')], ['configfs', 'virtio_mmio']);
});
