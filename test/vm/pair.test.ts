// The pair topology: two VMs booted in parallel on a unix-datagram L2 link.
import t from 'tap';
import { bootLab, LAB_NET, type Lab } from '../../src/vm/topology.js';
import { labOrSkip, project, stockKernel, testLogDir } from '../helpers/lab.js';

if (await labOrSkip()) {
  const kernel = await stockKernel();
  let lab: Lab;
  t.before(async () => {
    lab = await bootLab({ kind: 'pair', kernel, project, logDir: testLogDir('pair'), rdmaLinks: [0] });
  });
  t.teardown(async () => lab?.shutdown());

  t.test('two guests with their roles and addresses', async (t) => {
    t.equal(lab.machines.length, 2);
    t.equal(lab.host.ready?.role, 'host');
    t.equal(lab.target.ready?.role, 'target');
    t.match(await lab.host.agent.check(['ip', '-br', 'addr', 'show', 'eth0']), LAB_NET.host);
    t.match(await lab.target.agent.check(['ip', '-br', 'addr', 'show', 'eth0']), LAB_NET.target);
  });

  t.test("jumbo frames, and each VM's rxe device made at boot on eth0 and ACTIVE", async (t) => {
    for (const m of lab.machines) {
      t.equal((await m.agent.fs().readFile('/sys/class/net/eth0/mtu')).trim(), String(LAB_NET.mtu), `${m.name} eth0 MTU`);
      const link = await m.agent.check(['rdma', '-j', 'link', 'show', 'rxe0/1']);
      t.match(link, /"state":"ACTIVE"/, `${m.name} rxe0 ACTIVE`);
      t.match(link, /"netdev":"eth0"/);
    }
  });

  t.test('the host pings the target across the link', async (t) => {
    const r = await lab.host.agent.exec(['busybox', 'ping', '-c', '3', '-W', '5', LAB_NET.target], { deadlineMs: 30_000 });
    t.equal(r.exitCode, 0, r.stdout + r.stderr);
    t.match(r.stdout, /3 packets received/);
  });
}
