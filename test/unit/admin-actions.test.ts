// The scenario's admin actions against the fake lab: each runs on its VM through the
// guard's allow() (recorded, not refused), and a kernel's refusal is an outcome.
import t from 'tap';
import { ADMIN, adminSide, afterRestore, performAdmin, prepareAdmin } from '../../src/scenario/admin-actions.js';
import { ADMIN_ACTIONS, AdminSpec, type AdminAction } from '../../src/scenario/spec.js';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { target } from '../../src/scenario/phases/target.js';
import { LAB_NQN } from '../../src/orchestrate/nvme-lab.js';
import { failed, type FakeLab, type FakeLabOptions } from '../helpers/fake-lab.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

async function armedLab(opts: FakeLabOptions = {}) {
  const r = await fakeRun(quickSpec(), opts, [boot, target, connect]);
  for (const m of r.fake.machines) m.agent.guard.arm();
  return r;
}

const adm = (action: AdminAction, more: object = {}) => AdminSpec.parse({ action, ...more });
/** The single step of a one-step action, as the resets phase would run it. */
async function act(fake: FakeLab, action: AdminAction, controller = 'nvme0') {
  const all = await performAdmin(fake, adm(action), controller);
  return all[0]!;
}

t.test('every action in the spec has a row; only port removal acts again after the restore', async (t) => {
  t.same(Object.keys(ADMIN).sort(), [...ADMIN_ACTIONS].sort());
  t.same(ADMIN_ACTIONS.map(adminSide), ['host', 'host', 'host', 'target', 'target', 'host']);
  t.same(ADMIN_ACTIONS.filter((a) => ADMIN[a].afterRestore), ['remove-target-port', 'add-unrelated-rdma-devices']);
});

t.test('delete-controller: the controller goes, allowed by the armed guard and recorded as scripted', async (t) => {
  const { fake } = await armedLab();
  const o = await act(fake, 'delete-controller', 'nvme0');
  t.same(o, { action: 'delete-controller', what: 'echo 1 > /sys/class/nvme/nvme0/delete_controller', ok: true });
  t.same(fake.controllers(), []);
  t.same(fake.host.agent.guard.refused, []);
  t.same(fake.host.agent.guard.scripted.map((s) => s.what), [o.what]);
});

t.test('delete-controller of a controller already gone is fine (nvme disconnect does the same)', async (t) => {
  const { fake } = await armedLab();
  fake.removeController('nvme0');
  t.equal((await act(fake, 'delete-controller', 'nvme0')).ok, true);
});

t.test('reset-controller: written to the controller, and a missing one is an outcome with its errno', async (t) => {
  const { fake } = await armedLab();
  t.equal((await act(fake, 'reset-controller', 'nvme0')).ok, true);
  t.same(fake.host.agent.ops('writeFile').at(-1), { path: '/sys/class/nvme/nvme0/reset_controller', data: '1' });
  const gone = await act(fake, 'reset-controller', 'nvme7');
  t.equal(gone.ok, false);
  t.match(gone.error, /ENOENT/);
});

t.test('unload-host-module: rmmod on the host; a refusal (EBUSY) is reported, not thrown', async (t) => {
  const { fake } = await armedLab();
  t.equal((await act(fake, 'unload-host-module', 'nvme0')).ok, true);
  t.ok(fake.host.agent.execs().includes('rmmod nvme_rdma'));
  t.same(fake.controllers(), [], 'its controllers are gone with it');
  const busy = await armedLab();
  busy.fake.host.agent.execHandlers.unshift((argv) => (argv[0] === 'rmmod' ? failed('rmmod: ERROR: Module nvme_rdma is in use') : undefined));
  const o = await act(busy.fake, 'unload-host-module', 'nvme0');
  t.equal(o.ok, false);
  t.match(o.error, /exited 1: rmmod: ERROR: Module nvme_rdma is in use/);
});

t.test('remove-target-port: link and port removed on the target; re-created after the restore', async (t) => {
  const { fake } = await armedLab();
  const port = '/sys/kernel/config/nvmet/ports/1';
  const o = await act(fake, 'remove-target-port', 'nvme0');
  t.equal(o.ok, true, o.error ?? 'the action succeeded');
  t.notOk(fake.target.agent.files.nodes.has(port));
  t.same(fake.target.agent.guard.refused, []);
  const back = await afterRestore(fake, adm('remove-target-port'));
  t.same(back, { action: 'remove-target-port', what: `mkdir ${port} (rdma 10.99.0.1:4420) and link ${LAB_NQN}`, ok: true });
  t.ok(fake.target.agent.files.nodes.has(`${port}/subsystems/${LAB_NQN}`));
  t.equal(await afterRestore(fake, adm('delete-controller')), undefined, 'nothing to do after the restore for the others');
});

t.test('without the guard allowing it, the same write would be refused', async (t) => {
  const { fake } = await armedLab();
  await t.rejects(fake.host.agent.fs().writeFile('/sys/class/nvme/nvme0/delete_controller', '1'), /no-admin guard: refused/);
});

const PORT = '/sys/kernel/config/nvmet/ports/1';

t.test('recreate-target-port: removed and re-created while the device is away; patched keeps the port, stock refuses the link', async (t) => {
  for (const [portWhileDown, ok, error] of [
    ['keep', true, undefined],
    ['refuse', false, /linking .*ports\/1\/subsystems.* failed: ENODEV/],
  ] as const) {
    const { fake } = await armedLab({ portWhileDown });
    await fake.resetPlan({ side: 'target', reset: 'rdma-link' }).trigger();
    const outcomes = await performAdmin(fake, adm('recreate-target-port'), 'nvme0');
    t.same(
      outcomes.map((o) => o.what.split(' ')[0]),
      ['rm', 'mkdir'],
      `${portWhileDown}: the port's removal, then its re-creation`,
    );
    t.equal(outcomes[0]!.ok, true, 'the removal works either way');
    t.match(outcomes[1]!.what, /while the device is away$/);
    t.equal(outcomes[1]!.ok, ok, `${portWhileDown}: the link ${ok ? 'accepted' : 'refused'}`);
    if (error) t.match(outcomes[1]!.error, error);
    t.equal(fake.target.agent.files.nodes.has(`${PORT}/subsystems/${LAB_NQN}`), ok);
    t.same(fake.target.agent.guard.refused, [], 'recorded as the scenario\'s, not refused');
    t.equal(await afterRestore(fake, adm('recreate-target-port')), undefined, 'nothing more once the device is back');
    await fake.kill();
  }
});

t.test('add-unrelated-rdma-devices: count dummy netdevs with an rxe device each, interval_ms apart; all removed after', async (t) => {
  const { fake } = await armedLab();
  const admin = adm('add-unrelated-rdma-devices', { count: 3, interval_ms: 60 });
  const host = fake.host.agent;
  await t.rejects(performAdmin(fake, admin, 'nvme0').then((o) => (o.every((x) => x.ok) ? o : Promise.reject(new Error(o[0]!.error)))), /no such link type/, 'without the dummy module the addition fails');
  await prepareAdmin(fake, admin);
  t.ok(host.execs().includes('modprobe dummy'), 'prepare loads the dummy module');
  const at: number[] = [];
  const outcomes = await performAdmin(fake, admin, 'nvme0', () => at.push(Date.now()));
  t.same(outcomes.map((o) => o.ok), [true, true, true]);
  t.equal(outcomes[2]!.what, 'ip link add rbdummy2 type dummy; ip link set rbdummy2 up; rdma link add rbrxe2 type rxe netdev rbdummy2');
  t.ok(at[2]! - at[0]! >= 110, `the third came ${at[2]! - at[0]!} ms after the first (2 x 60 ms)`);
  for (let i = 0; i < 3; i++) {
    t.ok(host.files.nodes.has(`/sys/class/net/rbdummy${i}`), `rbdummy${i} there`);
    t.ok(host.files.nodes.has(`/sys/class/infiniband/rbrxe${i}`), `rbrxe${i} there`);
  }
  t.same(host.ops('rdma.newLink').at(-1), { name: 'rbrxe2', netdev: 'rbdummy2', type: 'rxe' });
  const back = await afterRestore(fake, admin);
  t.equal(back?.ok, true, back?.error ?? 'cleaned up');
  t.match(back?.what, /rdma link delete rbrxe0\.\.rbrxe2, ip link del rbdummy0\.\.rbdummy2/);
  const left = [...host.files.nodes.keys()].filter((p) => /\/(rbdummy|rbrxe)\d/.test(p));
  t.same(left, [], 'nothing left behind');
  t.same(host.ops('rdma.delLink').map((a) => a.name), ['rbrxe0', 'rbrxe1', 'rbrxe2'], 'each rxe device deleted');
  await fake.kill();
});
