// The scenario's admin actions against the fake lab: each runs on its VM through the
// guard's allow() (recorded, not refused), and a kernel's refusal is an outcome.
import t from 'tap';
import { ADMIN, adminSide, afterRestore, performAdmin } from '../../src/scenario/admin-actions.js';
import { ADMIN_ACTIONS } from '../../src/scenario/spec.js';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { target } from '../../src/scenario/phases/target.js';
import { LAB_NQN } from '../../src/orchestrate/nvme-lab.js';
import { failed } from '../helpers/fake-lab.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

async function armedLab() {
  const r = await fakeRun(quickSpec(), {}, [boot, target, connect]);
  for (const m of r.fake.machines) m.agent.guard.arm();
  return r;
}

t.test('every action in the spec has a row; only port removal acts again after the restore', async (t) => {
  t.same(Object.keys(ADMIN).sort(), [...ADMIN_ACTIONS].sort());
  t.same(ADMIN_ACTIONS.map(adminSide), ['host', 'host', 'host', 'target']);
  t.same(ADMIN_ACTIONS.filter((a) => ADMIN[a].afterRestore), ['remove-target-port']);
});

t.test('delete-controller: the controller goes, allowed by the armed guard and recorded as scripted', async (t) => {
  const { fake } = await armedLab();
  const o = await performAdmin(fake, 'delete-controller', 'nvme0');
  t.same(o, { action: 'delete-controller', what: 'echo 1 > /sys/class/nvme/nvme0/delete_controller', ok: true });
  t.same(fake.controllers(), []);
  t.same(fake.host.agent.guard.refused, []);
  t.same(fake.host.agent.guard.scripted.map((s) => s.what), [o.what]);
});

t.test('delete-controller of a controller already gone is fine (nvme disconnect does the same)', async (t) => {
  const { fake } = await armedLab();
  fake.removeController('nvme0');
  t.equal((await performAdmin(fake, 'delete-controller', 'nvme0')).ok, true);
});

t.test('reset-controller: written to the controller, and a missing one is an outcome with its errno', async (t) => {
  const { fake } = await armedLab();
  t.equal((await performAdmin(fake, 'reset-controller', 'nvme0')).ok, true);
  t.same(fake.host.agent.ops('writeFile').at(-1), { path: '/sys/class/nvme/nvme0/reset_controller', data: '1' });
  const gone = await performAdmin(fake, 'reset-controller', 'nvme7');
  t.equal(gone.ok, false);
  t.match(gone.error, /ENOENT/);
});

t.test('unload-host-module: rmmod on the host; a refusal (EBUSY) is reported, not thrown', async (t) => {
  const { fake } = await armedLab();
  t.equal((await performAdmin(fake, 'unload-host-module', 'nvme0')).ok, true);
  t.ok(fake.host.agent.execs().includes('rmmod nvme_rdma'));
  t.same(fake.controllers(), [], 'its controllers are gone with it');
  const busy = await armedLab();
  busy.fake.host.agent.execHandlers.unshift((argv) => (argv[0] === 'rmmod' ? failed('rmmod: ERROR: Module nvme_rdma is in use') : undefined));
  const o = await performAdmin(busy.fake, 'unload-host-module', 'nvme0');
  t.equal(o.ok, false);
  t.match(o.error, /exited 1: rmmod: ERROR: Module nvme_rdma is in use/);
});

t.test('remove-target-port: link and port removed on the target; re-created after the restore', async (t) => {
  const { fake } = await armedLab();
  const port = '/sys/kernel/config/nvmet/ports/1';
  const o = await performAdmin(fake, 'remove-target-port', 'nvme0');
  t.equal(o.ok, true, o.error ?? 'the action succeeded');
  t.notOk(fake.target.agent.files.nodes.has(port));
  t.same(fake.target.agent.guard.refused, []);
  const back = await afterRestore(fake, 'remove-target-port');
  t.same(back, { action: 'remove-target-port', what: `mkdir ${port} (rdma 10.99.0.1:4420) and link ${LAB_NQN}`, ok: true });
  t.ok(fake.target.agent.files.nodes.has(`${port}/subsystems/${LAB_NQN}`));
  t.equal(await afterRestore(fake, 'delete-controller'), undefined, 'nothing to do after the restore for the others');
});

t.test('without the guard allowing it, the same write would be refused', async (t) => {
  const { fake } = await armedLab();
  await t.rejects(fake.host.agent.fs().writeFile('/sys/class/nvme/nvme0/delete_controller', '1'), /no-admin guard: refused/);
});
