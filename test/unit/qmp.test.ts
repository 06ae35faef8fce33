// QMP and the agent channel against fake peers on real unix sockets.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../../src/vm/qmp.js';
import { AgentClient, GuestError } from '../../src/vm/agent-client.js';
import { DeadlineError, HarnessError } from '../../src/util/errors.js';
import { hotplug } from '../../src/reset/hotplug.js';
import type { Machine } from '../../src/vm/machine.js';

function fakePeer(path: string, onLine: (line: string, sock: Socket) => void, greeting?: string): Promise<() => void> {
  return new Promise((resolve) => {
    const socks: Socket[] = [];
    const srv = createServer((sock) => {
      socks.push(sock);
      if (greeting) sock.write(greeting);
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line) onLine(line, sock);
        }
      });
    });
    srv.listen(path, () =>
      resolve(() => {
        for (const s of socks) s.destroy();
        srv.close();
      }),
    );
  });
}

t.test('QMP: greeting, capabilities, a command, an error and an event', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rb-qmp-')), 'qmp.sock');
  const seen: string[] = [];
  const stop = await fakePeer(
    path,
    (line, sock) => {
      const m = JSON.parse(line) as { execute: string; id: string; arguments?: { id?: string } };
      seen.push(m.execute);
      if (m.execute === 'qmp_capabilities' || m.execute === 'query-status') {
        sock.write(`${JSON.stringify({ return: m.execute === 'query-status' ? { status: 'running' } : {}, id: m.id })}\r\n`);
      } else if (m.execute === 'device_del') {
        sock.write(`${JSON.stringify({ event: 'DEVICE_DELETED', data: { device: m.arguments?.id }, timestamp: { seconds: 1, microseconds: 2 } })}\r\n`);
        sock.write(`${JSON.stringify({ return: {}, id: m.id })}\r\n`);
      } else {
        sock.write(`${JSON.stringify({ error: { class: 'CommandNotFound', desc: `The command ${m.execute} has not been found` }, id: m.id })}\r\n`);
      }
    },
    `${JSON.stringify({ QMP: { version: { qemu: { major: 7 } }, capabilities: [] } })}\r\n`,
  );
  const q = new QmpClient(path);
  await q.open(5000);
  t.same(await q.execute('query-status'), { status: 'running' });
  const gone = q.waitEvent('DEVICE_DELETED', (e) => e.data?.device === 'nic0', 2000);
  await q.execute('device_del', { id: 'nic0' });
  t.equal((await gone).data?.device, 'nic0');
  await t.rejects(q.execute('no-such'), /QMP CommandNotFound: The command no-such has not been found/);
  await t.rejects(q.waitEvent('NEVER', () => true, 100), DeadlineError);
  t.same(seen.slice(0, 2), ['qmp_capabilities', 'query-status']);
  q.close();
  stop();
});

const greeting = `${JSON.stringify({ QMP: { version: { qemu: { major: 7 } }, capabilities: [] } })}\r\n`;
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

t.test('a failed device_del rejects at once with its cause and leaves no timer or rejection behind', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rb-qmp-')), 'qmp.sock');
  const stop = await fakePeer(
    path,
    (line, sock) => {
      const m = JSON.parse(line) as { execute: string; id: string; arguments?: { id?: string } };
      const answer =
        m.execute === 'device_del'
          ? { error: { class: 'DeviceNotFound', desc: `Device '${m.arguments?.id}' not found` }, id: m.id }
          : { return: {}, id: m.id };
      sock.write(`${JSON.stringify(answer)}\r\n`);
    },
    greeting,
  );
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const q = new QmpClient(path);
  await q.open(5000);
  const before = timers();
  const site = { vm: { qmp: q } as unknown as Machine, netdev: 'eth1', rxe: 'rxe0', cidr: '10.99.0.1/24', nicId: 'nic0', nicDevice: 'virtio-net-pci,id=nic0' };
  const started = Date.now();
  // The real injector with its real 150 s unplug deadline.
  const err = await hotplug.trigger(site).catch((e: unknown) => e);
  const tookMs = Date.now() - started;
  t.type(err, HarnessError);
  t.match((err as Error).message, /QMP DeviceNotFound: Device 'nic0' not found/, 'the cause is QMP\'s own error');
  t.ok(tookMs < 5000, `rejected at once (${tookMs} ms), not after the unplug deadline`);
  t.equal(timers(), before, 'the DEVICE_DELETED deadline timer is gone');
  t.equal(q.listenerCount('event'), 0, 'no event listener left');
  t.equal(q.listenerCount('closed'), 0, 'no close listener left');
  await new Promise((r) => setImmediate(r));
  t.same(unhandled, [], 'no unhandled rejection');
  q.close();
  stop();
});

t.test('executeAndWait: an event that overtakes the answer counts; a dead channel ends the wait', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rb-qmp-')), 'qmp.sock');
  const stop = await fakePeer(
    path,
    (line, sock) => {
      const m = JSON.parse(line) as { execute: string; id: string; arguments?: { id?: string } };
      if (m.execute === 'device_del') {
        sock.write(`${JSON.stringify({ event: 'DEVICE_DELETED', data: { device: m.arguments?.id } })}\r\n`);
      }
      if (m.execute === 'die') {
        sock.destroy();
        return;
      }
      sock.write(`${JSON.stringify({ return: {}, id: m.id })}\r\n`);
    },
    greeting,
  );
  const q = new QmpClient(path);
  await q.open(5000);
  const e = await q.executeAndWait('device_del', { id: 'nic1' }, { name: 'DEVICE_DELETED', match: (e) => e.data?.device === 'nic1', deadlineMs: 60_000 });
  t.equal(e.data?.device, 'nic1');
  const pending = q.waitEvent('NEVER', () => true, 60_000);
  const started = Date.now();
  await t.rejects(q.execute('die'), HarnessError);
  await t.rejects(pending, /QMP event NEVER: QMP connection closed/);
  t.ok(Date.now() - started < 5000, 'the wait ends with the channel, not at its deadline');
  t.equal(q.listenerCount('event'), 0, 'no event listener left');
  stop();
});

t.test('agent client: answers by id, guest errors keep errno and path, deadlines, a closed channel', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rb-agent-')), 'agent.sock');
  const stop = await fakePeer(path, (line, sock) => {
    const r = JSON.parse(line) as { id: number; op: string; args: { path?: string }; deadlineMs: number };
    if (r.op === 'slow') return; // never answers
    if (r.op === 'readFile' && r.args.path === '/nope') {
      sock.write(`${JSON.stringify({ id: r.id, ok: false, error: { message: 'ENOENT: no such file', code: 'ENOENT', errno: -2, path: '/nope' } })}\n`);
      return;
    }
    // answer out of order to check matching by id
    setTimeout(() => sock.write(`${JSON.stringify({ id: r.id, ok: true, result: `${r.op}:${r.args.path}` })}\n`), r.args.path === '/a' ? 50 : 0);
    sock.write(`${JSON.stringify({ event: 'kmsg', data: { level: 6, seq: 1, usec: 2, text: 'x' } })}\n`);
  });
  const a = new AgentClient(path);
  await a.connect(2000, 'agent');
  const events: unknown[] = [];
  a.on('event:kmsg', (d) => events.push(d));
  const [x, y] = await Promise.all([a.call('readFile', { path: '/a' }), a.call('readFile', { path: '/b' })]);
  t.equal(x, 'readFile:/a');
  t.equal(y, 'readFile:/b');
  t.ok(events.length >= 2, 'events arrive beside answers');
  const err = await a.fs().readFile('/nope').catch((e: unknown) => e);
  t.type(err, GuestError);
  t.equal((err as GuestError).code, 'ENOENT');
  t.equal((err as GuestError).path, '/nope');
  // the client allows the agent's own deadline plus slack; a short one keeps the test fast
  const slow = a.call('slow', {}, 1).catch((e: unknown) => e);
  stop();
  const after = await slow;
  t.ok(after instanceof HarnessError, 'in-flight request fails when the channel closes');
  await t.rejects(a.call('readFile', { path: '/c' }), HarnessError, 'later requests fail at once');
});

t.test('connect: a socket file nobody listens on yet (ECONNREFUSED) is retried until a peer listens', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rb-sock-')), 'agent.sock');
  // A process that bound and listened, then died: the file stays and refuses connections,
  // as QEMU's socket does between bind() and listen().
  const child = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  t.equal(child.signal, 'SIGKILL');
  t.ok(existsSync(path), 'the stale socket file is there');
  const a = new AgentClient(path);
  let stop: (() => void) | undefined;
  t.teardown(() => stop?.());
  setTimeout(() => {
    unlinkSync(path);
    void fakePeer(path, () => {}).then((s) => (stop = s));
  }, 300);
  const t0 = Date.now();
  await a.connect(5000, 'agent');
  t.ok(Date.now() - t0 >= 250, 'connected only once the peer listened');
  a.close();
  const never = new AgentClient(join(mkdtempSync(join(tmpdir(), 'rb-sock-')), 'none.sock'));
  await t.rejects(never.connect(300, 'agent'), /agent socket .* accepting connections/);
});
