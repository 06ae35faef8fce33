import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { contradictions, debugStamp, FRAGMENTS, missingFromConfig, parseFragment } from '../../src/kernel/debug-build.js';
import { patchedFiles } from '../../src/kernel/series.js';

const vm = join(import.meta.dirname, '..', '..', 'vm');
const frag = (f: string): string => readFileSync(join(vm, f), 'utf8');
const values = (text: string): Map<string, string> => new Map(parseFragment(text).map((e) => [e.name, e.value]));

const DEBUG_REQUIRED: Record<string, string> = {
  DEBUG_KERNEL: 'y',
  KASAN: 'y',
  PROVE_LOCKING: 'y',
  DEBUG_ATOMIC_SLEEP: 'y',
  DETECT_HUNG_TASK: 'y',
  DEBUG_KMEMLEAK: 'y',
  DEBUG_KMEMLEAK_AUTO_SCAN: 'y',
  DEBUG_FS: 'y',
};

// What the lab boots and loads (issue 5 and the guest init); m = must be a module.
const LAB_REQUIRED: Record<string, string[]> = {
  VIRTIO_PCI: ['y', 'm'],
  VIRTIO_NET: ['y', 'm'],
  VIRTIO_CONSOLE: ['y', 'm'],
  NET_9P: ['y', 'm'],
  NET_9P_VIRTIO: ['y', 'm'],
  '9P_FS': ['y', 'm'],
  OVERLAY_FS: ['y', 'm'],
  CONFIGFS_FS: ['y', 'm'],
  DEVTMPFS: ['y'],
  TMPFS: ['y'],
  BLK_DEV_INITRD: ['y'],
  SERIAL_8250: ['y'],
  SERIAL_8250_CONSOLE: ['y'],
  PCI: ['y'],
  PCIEPORTBUS: ['y'],
  HOTPLUG_PCI: ['y'],
  HOTPLUG_PCI_PCIE: ['y'],
  HOTPLUG_PCI_ACPI: ['y'],
  ACPI: ['y'],
  MODULES: ['y'],
  MODULE_UNLOAD: ['y'],
  INFINIBAND: ['m'],
  INFINIBAND_ADDR_TRANS: ['y'],
  RDMA_RXE: ['m'],
  NVME_CORE: ['m'],
  NVME_FABRICS: ['m'],
  NVME_RDMA: ['m'],
  NVME_MULTIPATH: ['y'],
  NVME_TARGET: ['m'],
  NVME_TARGET_RDMA: ['m'],
  // tcp-rdma-mixed: an nvme-tcp path beside the RDMA one (a debug kernel without them ERRORed).
  NVME_TCP: ['m'],
  NVME_TARGET_TCP: ['m'],
  // unrelated-device-adds: a dummy netdev under each unrelated rxe device.
  DUMMY: ['y', 'm'],
  // hold_tx: a netem qdisc holds the skbs rdma_rxe sent.
  NET_SCHED: ['y'],
  NET_SCH_NETEM: ['y', 'm'],
  BLK_DEV_RAM: ['y', 'm'],
  BLK_DEV_NULL_BLK: ['y', 'm'],
  CRYPTO_CRC32: ['y', 'm'],
  CRYPTO_CRC32C: ['y', 'm'],
  NET: ['y'],
  INET: ['y'],
  IPV6: ['y', 'm'],
  UNIX: ['y'],
  PACKET: ['y', 'm'],
  IO_URING: ['y'],
  MAGIC_SYSRQ: ['y'],
  PRINTK_TIME: ['y'],
  IKCONFIG: ['y'],
  BINFMT_ELF: ['y'],
  BINFMT_SCRIPT: ['y'],
  '64BIT': ['y'],
};

t.test('parses set and unset symbols', async (t) => {
  t.same(parseFragment('# c\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=m\n'), [
    { name: 'A', value: 'y', line: 2 },
    { name: 'B', value: 'n', line: 3 },
    { name: 'C', value: '"x y"', line: 4 },
    { name: 'D', value: 'm', line: 5 },
  ]);
});

t.test('the debug fragment asks for every checker issue 5 names', async (t) => {
  const merged = new Map([...values(frag('lab.config')), ...values(frag('debug.config'))]);
  for (const [k, v] of Object.entries(DEBUG_REQUIRED)) t.equal(merged.get(k), v, `CONFIG_${k}`);
  t.not(merged.get('DEBUG_KMEMLEAK_DEFAULT_OFF'), 'y', 'kmemleak is not off by default');
  t.not(merged.get('BOOTPARAM_HUNG_TASK_PANIC'), 'y', 'a hung task is reported, not a panic');
  t.not(merged.get('PANIC_ON_OOPS'), 'y', 'an oops is reported, not a panic');
});

t.test('the lab fragment has what the lab boots and loads', async (t) => {
  const merged = new Map([...values(frag('lab.config')), ...values(frag('debug.config'))]);
  for (const [k, allowed] of Object.entries(LAB_REQUIRED)) {
    t.ok(allowed.includes(merged.get(k) ?? 'n'), `CONFIG_${k}=${merged.get(k) ?? 'n'} is one of ${allowed.join('/')}`);
  }
  // Nothing the lab does not need that costs build time.
  for (const k of ['DRM', 'SOUND', 'USB_SUPPORT', 'WLAN']) t.not(merged.get(k), 'y', `CONFIG_${k} stays off`);
});

t.test('no fragment, nor the pair, sets a symbol two ways', async (t) => {
  const all = FRAGMENTS.map((file) => ({ file, text: frag(file) }));
  for (const f of all) t.same(contradictions([f]), [], f.file);
  t.same(contradictions(all), [], 'lab.config + debug.config');
  t.same(contradictions([{ file: 'a', text: 'CONFIG_X=y\n' }, { file: 'b', text: '# CONFIG_X is not set\n' }]), [
    'CONFIG_X: y at a:1, n at b:1',
  ]);
});

t.test('finds requested values the final .config lost', async (t) => {
  const req = parseFragment('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n');
  t.same(missingFromConfig(req, 'CONFIG_A=y\nCONFIG_C=m\n'), []);
  t.same(missingFromConfig(req, 'CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n'), ['CONFIG_B=n (got y)', 'CONFIG_C=m (got n)']);
});

t.test('lists the files a patch touches', async (t) => {
  t.same(patchedFiles('--- a/x/y.c\n+++ b/x/y.c\n@@\n+++ b/z.h\t2024\n'), ['x/y.c', 'z.h']);
});

t.test("a debug kernel's stamp.json: missing is none, corrupt is a UsageError naming the file, the field and the fix", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-stamp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stamp = join(dir, 'stamp.json');
  t.equal(await debugStamp(dir), undefined, 'no stamp: no debug kernel');
  writeFileSync(stamp, '{"hash": "ab", "kver": "6.12.0-rb"');
  await t.rejects(debugStamp(dir), { name: 'UsageError', message: /stamp\.json: not JSON .*delete it and build the debug kernel again/ }, 'truncated');
  writeFileSync(stamp, JSON.stringify({ hash: 'ab', kver: 7 }));
  await t.rejects(debugStamp(dir), { name: 'UsageError', message: /stamp\.json: kver: .*string/ }, 'a field of the wrong type');
  writeFileSync(stamp, JSON.stringify({ hash: 'ab', kver: '6.12.0-rb', source: '6.12.117-1' }));
  t.match(await debugStamp(dir), { kver: '6.12.0-rb', source: '6.12.117-1' }, 'a good stamp is read');
});
