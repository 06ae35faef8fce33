// Why: the agent talks to the host only through its virtio-serial port. Its messages
// must keep their order, and a full port (the host not reading for a moment) must
// neither spin the CPU nor freeze the agent's event loop. Each write waits in libuv's
// thread pool until the port takes it; EAGAIN (a non-blocking descriptor) is retried
// after a growing pause. A port that takes nothing for `deadlineMs` is a dead channel:
// the writer reports it through onStuck instead of queueing forever.
import { write } from 'node:fs';
import { PORT_EAGAIN_FIRST_PAUSE_MS, PORT_EAGAIN_MAX_PAUSE_MS } from '../util/timeouts.js';


export class PortWriter {
  private queue: Buffer[] = [];
  private busy = false;
  private stuck = false;
  private watchdog: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly fd: number,
    private readonly deadlineMs: number,
    private readonly onStuck: (err: Error) => void,
  ) {}

  /** Queues buf behind everything sent before; returns at once. Dropped once stuck. */
  send(buf: Buffer): void {
    if (this.stuck) return; // the channel is dead; onStuck has said so
    this.queue.push(buf);
    if (!this.busy) this.flush();
  }

  /** Resolves when everything queued so far has been written. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    if (this.queue.length === 0) {
      this.busy = false;
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.busy = true;
    const buf = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    this.queue = [];
    this.armWatchdog();
    this.writeFrom(buf, 0, PORT_EAGAIN_FIRST_PAUSE_MS);
  }

  private writeFrom(buf: Buffer, off: number, pauseMs: number): void {
    write(this.fd, buf, off, buf.length - off, null, (err, n) => {
      if (this.stuck) return;
      if (err?.code === 'EAGAIN') {
        setTimeout(() => this.writeFrom(buf, off, Math.min(pauseMs * 2, PORT_EAGAIN_MAX_PAUSE_MS)), pauseMs);
        return;
      }
      if (err) {
        this.fail(err);
        return;
      }
      // Progress: the host is reading; the deadline counts from here again.
      this.armWatchdog();
      if (off + n < buf.length) this.writeFrom(buf, off + n, PORT_EAGAIN_FIRST_PAUSE_MS);
      else {
        clearTimeout(this.watchdog);
        this.flush();
      }
    });
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(
      () => this.fail(new Error(`the host has not read the agent port for ${this.deadlineMs} ms`)),
      this.deadlineMs,
    );
  }

  private fail(err: Error): void {
    clearTimeout(this.watchdog);
    if (this.stuck) return;
    this.stuck = true;
    this.onStuck(err);
  }
}
