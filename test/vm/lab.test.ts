// Boots real kernels: the loopback lab, the agent's operations, rdma_rxe.
import t from 'tap';
import { bootLab, type Lab } from '../../src/vm/topology.js';
import { GuestError } from '../../src/vm/agent-client.js';
import { labOrSkip, project, stockKernel, testLogDir, pidAlive } from '../helpers/lab.js';

if (await labOrSkip()) {
  const kernel = await stockKernel();
  let lab: Lab;
  t.before(async () => {
    lab = await bootLab({ kind: 'loopback', kernel, project, logDir: testLogDir('lab') });
  });
  t.teardown(async () => {
    if (lab?.host.alive) await lab.kill();
  });

  t.test('the guest runs the kernel we chose and the agent runs commands', async (t) => {
    t.equal(lab.host.ready?.kernel, kernel.kver);
    const r = await lab.host.agent.exec(['sh', '-c', 'uname -r; echo err >&2; exit 7']);
    t.equal(r.stdout.trim(), kernel.kver);
    t.equal(r.stderr.trim(), 'err');
    t.equal(r.exitCode, 7);
    const env = await lab.host.agent.exec(['sh', '-c', 'cat /proc/mounts']);
    t.match(env.stdout, /^overlay \/ overlay/m, 'root is the overlay over the host root');
    t.match(env.stdout, /configfs \/sys\/kernel\/config configfs/, 'configfs is mounted');
  });

  t.test('the guest sees our module tree at /lib/modules', async (t) => {
    const r = await lab.host.agent.check(['sh', '-c', 'readlink -f /lib/modules/$(uname -r)']);
    t.equal(r.trim(), kernel.modulesDir);
  });

  t.test('file operations round-trip and errors carry errno and path', async (t) => {
    const fs = lab.host.agent.fs();
    await fs.mkdir('/tmp/rb');
    await fs.writeFile('/tmp/rb/a', 'hello');
    t.equal(await fs.readFile('/tmp/rb/a'), 'hello');
    await fs.symlink('/tmp/rb/a', '/tmp/rb/link');
    t.same((await fs.readdir('/tmp/rb')).sort(), ['a', 'link']);
    t.equal(await fs.exists('/tmp/rb/link'), true);
    await fs.unlink('/tmp/rb/link');
    await fs.unlink('/tmp/rb/a');
    await fs.rmdir('/tmp/rb');
    t.equal(await fs.exists('/tmp/rb'), false);
    const err = await fs.readFile('/tmp/no/such').catch((e: unknown) => e);
    t.type(err, GuestError);
    t.equal((err as GuestError).code, 'ENOENT');
    t.equal((err as GuestError).path, '/tmp/no/such');
    const wr = await fs.writeFile('/proc/version', 'x').catch((e: unknown) => e);
    t.match((wr as GuestError).code, /EACCES|EIO|EPERM/, 'a kernel refusal comes back with its errno');
  });

  t.test('waitFor sees a change, and says what it last saw when the deadline passes', async (t) => {
    const w = lab.host.agent.waitFor('/tmp/flag', 'equals', 'go', 5000);
    await lab.host.agent.exec(['sh', '-c', 'sleep 0.3; echo go > /tmp/flag']);
    t.equal((await w).value, 'go');
    const late = await lab.host.agent.waitFor('/tmp/flag', 'equals', 'never', 300).catch((e: unknown) => e);
    t.equal((late as GuestError).code, 'ETIMEDOUT');
    t.match((late as Error).message, /last seen "go"/);
  });

  t.test('a command past its deadline is stopped and says so', async (t) => {
    const r = await lab.host.agent.exec(['sleep', '30'], { deadlineMs: 500 });
    t.equal(r.timedOut, true);
  });

  t.test('the kernel log streams from the guest', async (t) => {
    await lab.host.agent.exec(['sh', '-c', 'echo reset-bench-marker-42 > /dev/kmsg']);
    await new Promise((r) => setTimeout(r, 300));
    t.ok(lab.host.kmsg.some((k) => k.text.includes('reset-bench-marker-42')), 'marker seen in the kmsg stream');
  });

  t.test("stage 1 has loaded the role's lab modules (loopback: both roles)", async (t) => {
    for (const m of ['rdma_rxe', 'nvmet_rdma', 'nvme_rdma']) t.ok(await lab.host.agent.fs().exists(`/sys/module/${m}`), `${m} loaded`);
    t.equal((await lab.host.agent.fs().readFile('/sys/module/nvmet_rdma/initstate')).trim(), 'live');
  });

  t.test('rdma_rxe loads and an rxe device comes up on eth0', async (t) => {
    await lab.host.agent.check(['modprobe', 'rdma_rxe']);
    await lab.host.agent.check(['rdma', 'link', 'add', 'rxe0', 'type', 'rxe', 'netdev', 'eth0']);
    const state = await lab.host.agent.waitFor('/sys/class/infiniband/rxe0/ports/1/state', 'matches', 'ACTIVE', 10_000);
    t.match(state.value, /ACTIVE/);
    const r = await lab.host.agent.check(['rdma', '-j', 'link', 'show']);
    t.match(r, /"ifname":"rxe0","port":1,"state":"ACTIVE"/);
  });

  t.test('QMP answers', async (t) => {
    const status = (await lab.host.qmp.execute('query-status')) as { status: string };
    t.equal(status.status, 'running');
  });

  t.test('a clean power-off ends QEMU', async (t) => {
    const pid = lab.host.proc.pid!;
    await lab.shutdown();
    t.notOk(pidAlive(pid), 'QEMU is gone after the clean power-off');
    t.notOk(lab.host.crashed, 'a requested power-off is not a crash');
  });
}
