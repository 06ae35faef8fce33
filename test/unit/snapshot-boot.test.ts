// Saving and restoring a VM's state through QMP, against a fake QEMU on real unix sockets:
// its QMP socket, and the migration socket it connects to (save) or listens on (restore).
import t from 'tap';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../../src/vm/qmp.js';
import { restoreState, saveAtPoint } from '../../src/vm/snapshot-boot.js';
import { findSnapshot } from '../../src/vm/snapshot-store.js';

type Handler = (cmd: string, args: Record<string, unknown> | undefined) => unknown;

/** A QMP peer answering each command with what `handle` returns; resolves with its stop(). */
function fakeQmp(path: string, handle: Handler): Promise<() => void> {
  return new Promise((resolve) => {
    const socks: Socket[] = [];
    const srv = createServer((sock) => {
      socks.push(sock);
      sock.write('{"QMP": {"version": {}, "capabilities": []}}\r\n');
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const m = JSON.parse(buf.slice(0, i)) as { execute: string; id: string; arguments?: Record<string, unknown> };
          buf = buf.slice(i + 1);
          void Promise.resolve(handle(m.execute, m.arguments)).then((ret) => sock.write(`${JSON.stringify({ return: ret ?? {}, id: m.id })}\r\n`));
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

const unixPath = (args: Record<string, unknown> | undefined): string => String(args?.uri).replace(/^unix:/, '');

t.test('restore: the state goes to QEMU\'s socket, and a QEMU that closes it once it has the stream\'s end is no failure', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rb-restore-'));
  const state = join(dir, 'k.state');
  await writeFile(state, Buffer.alloc(4 * 1024 * 1024, 7)); // more than one socket buffer
  const seen: string[] = [];
  let received = 0;
  let loaded = false;
  const stop = await fakeQmp(join(dir, 'qmp.sock'), (cmd, args) => {
    seen.push(cmd);
    if (cmd === 'migrate-incoming') {
      const srv = createServer((c) => {
        c.on('data', (d: Buffer) => {
          received += d.length;
          if (received >= 1024 * 1024 && !loaded) {
            loaded = true; // as QEMU at QEMU_VM_EOF: it closes while the sender still writes
            c.destroy();
            srv.close();
          }
        });
      });
      return new Promise((r) => srv.listen(unixPath(args), () => r({})));
    }
    if (cmd === 'query-status') return { status: loaded ? 'paused' : 'inmigrate', running: false };
    return {};
  });
  const qmp = new QmpClient(join(dir, 'qmp.sock'));
  await qmp.open();
  await restoreState(qmp, { state, runDir: dir });
  t.ok(loaded, 'QEMU got the stream');
  t.same(seen.filter((c) => c !== 'query-status'), ['qmp_capabilities', 'migrate-incoming', 'cont'], 'loaded as paused, then continued');
  qmp.close();
  stop();
});

t.test('save: stopped, migrated into a file, published with the console text; left stopped for the caller', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rb-save-'));
  const store = join(dir, 'snapshots');
  const stream = Buffer.alloc(3 * 1024 * 1024 + 5, 3);
  const seen: string[] = [];
  let done = false;
  const stop = await fakeQmp(join(dir, 'qmp.sock'), (cmd, args) => {
    seen.push(cmd);
    if (cmd === 'migrate') {
      const c = connect(unixPath(args), () => c.end(stream, () => (done = true)));
    }
    if (cmd === 'query-migrate') return { status: done ? 'completed' : 'active' };
    return {};
  });
  const qmp = new QmpClient(join(dir, 'qmp.sock'));
  await qmp.open();
  await saveAtPoint(qmp, { dir: store, key: 'abc', runDir: dir, consoleText: 'boot text\nRESET_BENCH_SNAPSHOT_POINT\n' });
  t.same(seen.filter((c) => c !== 'query-migrate'), ['qmp_capabilities', 'stop', 'migrate-set-parameters', 'migrate'], 'no cont: the caller continues the VM');
  const found = await findSnapshot(store, 'abc');
  t.equal(found?.console, 'boot text\nRESET_BENCH_SNAPSHOT_POINT\n');
  t.ok(found && (await readFile(found.state)).equals(stream), 'the state file is the whole stream');
  t.same((await readdir(store)).sort(), ['abc.console', 'abc.state'], 'no temporary left');
  qmp.close();
  stop();
});
