import t from 'tap';
import { AdminGuard, adminAction } from '../../src/orchestrate/admin-guard.js';

t.test('what counts as an admin action on the NVMe layer', async (t) => {
  t.ok(adminAction('fabrics.connect', { options: 'transport=rdma' }));
  t.ok(adminAction('writeFile', { path: '/sys/class/nvme/nvme0/reset_controller', data: '1' }));
  t.ok(adminAction('writeFile', { path: '/sys/class/nvme/nvme0/delete_controller', data: '1' }));
  t.ok(adminAction('symlink', { target: '/sys/kernel/config/nvmet/subsystems/x', path: '/sys/kernel/config/nvmet/ports/1/subsystems/x' }));
  t.ok(adminAction('rmdir', { path: '/sys/kernel/config/nvmet/ports/1' }));
  t.match(adminAction('nvmet.apply', { config: { hosts: [], subsystems: [], ports: [] } }), /nvmet.apply \(the nvmet target's configfs\)/, 'the whole target applied in the guest');
  t.ok(adminAction('exec', { argv: ['nvme', 'connect', '-t', 'rdma'] }));
  t.ok(adminAction('exec', { argv: ['/usr/sbin/nvme', 'reset', '/dev/nvme0'] }));
  t.ok(adminAction('exec', { argv: ['sh', '-c', 'echo 1 > /sys/class/nvme/nvme0/rescan_controller'] }));
  t.equal(adminAction('readFile', { path: '/sys/class/nvme/nvme0/state' }), undefined, 'reading is watching');
  t.equal(adminAction('writeFile', { path: '/sys/bus/pci/drivers/virtio-pci/bind', data: '0000:01:00.0' }), undefined, 'device-level restore');
  t.equal(adminAction('rdma.newLink', { name: 'rxe0', netdev: 'eth0' }), undefined);
  t.equal(adminAction('exec', { argv: ['modprobe', 'rdma_rxe'] }), undefined);
});

t.test('the guard refuses and records only once armed', async (t) => {
  const g = new AdminGuard();
  g.check('fabrics.connect', {});
  t.equal(g.refused.length, 0);
  g.arm();
  t.throws(() => g.check('fabrics.connect', {}), /no-admin guard: refused "fabrics.connect/);
  t.doesNotThrow(() => g.check('readFile', { path: '/sys/class/nvme/nvme0/state' }));
  t.equal(g.refused.length, 1);
  t.equal(g.refused[0]!.op, 'fabrics.connect');
});
