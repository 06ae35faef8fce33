// The agent's port writer against a real FIFO: order kept across a full pipe, no
// spinning while the reader pauses, EAGAIN on a non-blocking descriptor waited out,
// and a reader that never comes back reported once the deadline runs out.
import t from 'tap';
import { closeSync, constants, mkdtempSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { PortWriter } from '../../src/guest/port-writer.js';

/** A FIFO with a paused reader socket; `fd` is the write end. */
async function fifo(nonBlocking: boolean): Promise<{ fd: number; reader: Socket; received: () => Buffer; close: () => void }> {
  const path = join(mkdtempSync(join(tmpdir(), 'rb-port-')), 'port');
  await execa('mkfifo', [path]);
  const rfd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const fd = openSync(path, constants.O_WRONLY | (nonBlocking ? constants.O_NONBLOCK : 0));
  const reader = new Socket({ fd: rfd, readable: true, writable: false });
  reader.pause();
  const chunks: Buffer[] = [];
  reader.on('data', (c: Buffer) => chunks.push(c));
  return {
    fd,
    reader,
    received: () => Buffer.concat(chunks),
    close: () => {
      reader.destroy();
      closeSync(fd);
    },
  };
}

const message = (i: number): Buffer => Buffer.from(`${JSON.stringify({ i, pad: 'x'.repeat(900) })}\n`);
const until = async (cond: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

for (const nonBlocking of [false, true]) {
  t.test(`order survives a full port and a paused reader (${nonBlocking ? 'EAGAIN' : 'blocking'} descriptor)`, async (t) => {
    const f = await fifo(nonBlocking);
    const stuck: Error[] = [];
    const w = new PortWriter(f.fd, 10_000, (e) => stuck.push(e));
    const n = 300; // ~270 KiB: more than a pipe holds (64 KiB)
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) w.send(message(i));
    // The reader is paused: the port is full and the writer has to wait.
    await new Promise((r) => setTimeout(r, 500));
    const cpu = process.cpuUsage(cpu0);
    t.ok((cpu.user + cpu.system) / 1000 < 300, `waiting for the port does not spin (${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU in 500 ms)`);
    t.ok(f.received().length === 0, 'nothing read yet');
    f.reader.resume();
    await w.idle();
    const expected = Buffer.concat(Array.from({ length: n }, (_, i) => message(i)));
    await until(() => f.received().length >= expected.length, 5000);
    t.ok(f.received().equals(expected), `all ${n} messages arrived whole and in order`);
    t.same(stuck, [], 'the deadline never ran out');
    f.close();
  });
}

t.test('a reader that never reads: reported once, after the deadline', async (t) => {
  const f = await fifo(true);
  const stuck: Error[] = [];
  const w = new PortWriter(f.fd, 300, (e) => stuck.push(e));
  const started = Date.now();
  for (let i = 0; i < 400; i++) w.send(message(i)); // ~360 KiB: more than the pipe and the reader's buffer hold
  await until(() => stuck.length > 0, 5000);
  const took = Date.now() - started;
  t.equal(stuck.length, 1, 'reported once');
  t.match(stuck[0]?.message ?? '', /the host has not read the agent port for 300 ms/);
  t.ok(took >= 290 && took < 3000, `after the deadline (${took} ms)`);
  w.send(message(0));
  await new Promise((r) => setTimeout(r, 400));
  t.equal(stuck.length, 1, 'later sends are dropped, not reported again');
  f.close();
});
