// The pair topology: two VMs booted in parallel on a unix-datagram L2 link.
import t from 'tap';
import { bootLab, LAB_NET, type Lab } from '../../src/vm/topology.js';
import { labOrSkip, project, stockKernel, testLogDir } from '../helpers/lab.js';

if (await labOrSkip()) {
  const kernel = await stockKernel();
  let lab: Lab;
  t.before(async () => {
    lab = await bootLab({ kind: 'pair', kernel, project, logDir: testLogDir('pair') });
  });
  t.teardown(async () => lab?.shutdown());

  t.test('two guests with their roles and addresses', async (t) => {
    t.equal(lab.machines.length, 2);
    t.equal(lab.host.ready?.role, 'host');
    t.equal(lab.target.ready?.role, 'target');
    t.match(await lab.host.agent.check(['ip', '-br', 'addr', 'show', 'eth0']), LAB_NET.host);
    t.match(await lab.target.agent.check(['ip', '-br', 'addr', 'show', 'eth0']), LAB_NET.target);
  });

  t.test('the host pings the target across the link', async (t) => {
    const r = await lab.host.agent.exec(['busybox', 'ping', '-c', '3', '-W', '5', LAB_NET.target], { deadlineMs: 30_000 });
    t.equal(r.exitCode, 0, r.stdout + r.stderr);
    t.match(r.stdout, /3 packets received/);
  });
}
