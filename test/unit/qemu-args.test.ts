import t from 'tap';
import { detectAccel, kernelAppend, nicDevice, qemuArgs, type QemuSpec } from '../../src/vm/qemu-args.js';

const spec = (over: Partial<QemuSpec> = {}): QemuSpec => ({
  name: 'target',
  kernel: '/k/vmlinux',
  initrd: '/run/x/initramfs.cpio',
  append: 'console=ttyS0',
  memMb: 1024,
  accel: 'tcg',
  shareRoot: '/',
  qmpSocket: '/run/x/qmp.sock',
  agentSocket: '/run/x/agent.sock',
  shellSocket: '/run/x/shell.sock',
  nics: [{ id: 'nic0', mac: '52:54:00:72:62:01', link: { kind: 'dgram', local: '/run/x/a', remote: '/run/x/b' }, rootPort: 'rp1' }],
  ...over,
});

const valueOf = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

t.test('one VM per role: q35, one CPU, TCG with -cpu max without cmpxchg16b', async (t) => {
  const a = qemuArgs(spec());
  t.same(valueOf(a, '-machine'), ['q35,accel=tcg']);
  t.same(valueOf(a, '-smp'), ['1']);
  t.same(valueOf(a, '-cpu'), ['max,-cx16'], 'QEMU 7.2 TCG cmpxchg16b corrupts RFLAGS: SLUB double faults on 6.12');
  t.same(valueOf(qemuArgs(spec({ accel: 'kvm' })), '-cpu'), ['host']);
  t.ok(a.includes('-no-reboot'), 'a panic ends QEMU instead of rebooting');
});

t.test('no TCP or UDP anywhere: every socket is a unix path in the run directory', async (t) => {
  const a = qemuArgs(spec()).join(' ');
  t.notMatch(a, /tcp:|udp|host=|port=|hostfwd|-netdev user/);
  t.match(a, /-qmp unix:\/run\/x\/qmp\.sock,server=on,wait=off/);
  t.match(a, /socket,id=agent0,path=\/run\/x\/agent\.sock/);
  t.match(a, /dgram,id=nic0-be,local\.type=unix,local\.path=\/run\/x\/a,remote\.type=unix,remote\.path=\/run\/x\/b/);
});

t.test('the root is shared read-only and the agent port has its name', async (t) => {
  const a = qemuArgs(spec()).join(' ');
  t.match(a, /-fsdev local,id=root9p,path=\/,security_model=none,readonly=on/);
  t.match(a, /virtserialport,bus=vser0\.0,chardev=agent0,name=rb\.agent/);
});

t.test('NICs sit on hot-pluggable root ports, and device_add can reuse the same properties', async (t) => {
  const s = spec();
  const a = qemuArgs(s);
  t.ok(valueOf(a, '-device').includes('pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1'));
  t.ok(valueOf(a, '-device').includes(nicDevice(s.nics[0]!)));
  t.equal(nicDevice(s.nics[0]!), 'virtio-net-pci,id=nic0,netdev=nic0-be,mac=52:54:00:72:62:01,bus=rp1');
  const hub = qemuArgs(spec({ nics: [{ id: 'nic0', mac: 'm', link: { kind: 'hub', hubId: 3 }, rootPort: 'rp1' }] }));
  t.ok(valueOf(hub, '-netdev').includes('hubport,id=nic0-be,hubid=3'));
});

t.test("the agent's runtime disk: read-only, raw, on virtio-blk (the guest's /dev/vda); none when not given", async (t) => {
  const a = qemuArgs(spec({ runtimeImage: '/c/guest-runtime/abc.img' }));
  t.ok(valueOf(a, '-drive').includes('if=none,id=rbrt,file=/c/guest-runtime/abc.img,format=raw,readonly=on'));
  t.ok(valueOf(a, '-device').includes('virtio-blk-pci,drive=rbrt'));
  t.notOk(qemuArgs(spec({})).includes('-drive'));
});

t.test('kernel command line carries the guest parameters and refuses white space', async (t) => {
  const s = kernelAppend({ modulesDir: '/m/6.1', project: '/p', hostname: 'host', role: 'host', ip: '10.99.0.2/24' });
  t.match(s, /console=ttyS0/);
  t.match(s, /panic=-1/);
  t.match(s, /(^| )no_timer_check( |$)/, 'no IO-APIC timer check: TCG under load fails it');
  t.match(s, /(^| )cryptomgr\.notests( |$)/, 'no crypto self-tests: the longest initcall under TCG');
  t.match(s, /(^| )rb\.project=\/p( |$)/);
  t.notMatch(s, /rb\.init=/, 'no stage 2 to name: vm/init starts the agent itself');
  t.match(s, /rb\.ip=10\.99\.0\.2\/24/);
  t.throws(() => kernelAppend({ modulesDir: '/my modules', project: '/p', hostname: 'h', role: 'host' }), /white space/);
});

t.test('the MTU and the rxe devices made at boot go on the command line; a name that cannot is refused', async (t) => {
  const p = { modulesDir: '/m', project: '/p', hostname: 'h', role: 'host' };
  const words = kernelAppend({ ...p, mtu: 9000, rxe: [{ name: 'rxe0', netdev: 'eth0' }, { name: 'rxe1', netdev: 'eth1' }] }).split(' ');
  t.ok(words.includes('rb.mtu=9000'));
  t.ok(words.includes('rb.rxe=rxe0:eth0,rxe1:eth1'));
  t.notOk(kernelAppend(p).includes('rb.rxe'), 'none asked for: no word');
  t.notOk(kernelAppend({ ...p, rxe: [] }).includes('rb.rxe'));
  t.throws(() => kernelAppend({ ...p, rxe: [{ name: 'rxe 0', netdev: 'eth0' }] }), /"rxe 0" cannot go on the kernel command line/);
  t.throws(() => kernelAppend({ ...p, rxe: [{ name: 'rxe0', netdev: 'eth0,x' }] }), /cannot go on the kernel command line/);
});

t.test('a TCG guest keeps time on the HPET, never a TSC it may have miscalibrated; a KVM guest keeps its own', async (t) => {
  const p = { modulesDir: '/m', project: '/p', hostname: 'h', role: 'host' };
  const tcg = kernelAppend({ ...p, accel: 'tcg' }).split(' ');
  t.ok(tcg.includes('clocksource=hpet') && tcg.includes('tsc=unstable'), tcg.join(' '));
  const kvm = kernelAppend({ ...p, accel: 'kvm' });
  t.notMatch(kvm, /clocksource=|tsc=/);
});

t.test('accelerator: forced by env, else TCG without vmx/svm', async (t) => {
  t.equal(detectAccel({ RESET_BENCH_ACCEL: 'tcg' }), 'tcg');
  t.equal(detectAccel({ RESET_BENCH_ACCEL: 'kvm' }), 'kvm');
  t.ok(['kvm', 'tcg'].includes(detectAccel({})));
});

t.test("the topology's boot rxe devices: rxe<i> on eth<i> for the links it has, once each, in order", async (t) => {
  const { bootRxe } = await import('../../src/vm/topology.js');
  t.same(bootRxe('pair', [0]), [{ name: 'rxe0', netdev: 'eth0' }]);
  t.same(bootRxe('pair2', [1, 0, 1]), [{ name: 'rxe0', netdev: 'eth0' }, { name: 'rxe1', netdev: 'eth1' }]);
  t.same(bootRxe('loopback', [0, 1]), [{ name: 'rxe0', netdev: 'eth0' }], 'loopback has one link');
  t.same(bootRxe('pair', []), []);
});
