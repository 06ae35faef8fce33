// A unix-socket client that speaks JSON lines, with requests matched to answers by
// id and a deadline on each. QMP and the agent channel both build on it.
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { DeadlineError, HarnessError } from '../util/errors.js';
import { pollUntil } from '../util/deadline.js';
import { LineDecoder, encode } from '../guest/protocol.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  what: string;
}

export abstract class JsonLinesSocket extends EventEmitter {
  protected socket?: Socket;
  private readonly decoder = new LineDecoder();
  private readonly pending = new Map<number | string, Pending>();
  private closedError?: Error;

  constructor(protected readonly path: string) {
    super();
  }

  /**
   * Connects, retrying while QEMU has not created the socket yet, and while it has
   * bound it but not yet listened on it (ECONNREFUSED: a window that a loaded machine
   * stretches; one boot here failed in it).
   */
  async connect(deadlineMs: number, what: string): Promise<void> {
    this.socket = await pollUntil(() => tryConnect(this.path), {
      deadlineMs,
      what: `${what} socket ${this.path} accepting connections`,
    });
    this.socket.on('data', (chunk) => {
      for (const line of this.decoder.push(chunk)) {
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          this.emit('garbage', line);
          continue;
        }
        this.onMessage(msg);
      }
    });
    this.socket.on('error', (e) => this.failAll(new HarnessError(`${what}: ${e.message}`)));
    this.socket.on('close', () => this.failAll(new HarnessError(`${what} connection closed`)));
  }

  protected abstract onMessage(msg: unknown): void;

  protected sendRaw(msg: unknown): void {
    if (this.closedError) throw this.closedError;
    if (!this.socket) throw new HarnessError('not connected');
    this.socket.write(encode(msg));
  }

  /** Sends msg and waits for the answer settled with settle(id, ...). */
  protected request(id: number | string, msg: unknown, deadlineMs: number, what: string): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DeadlineError(what, deadlineMs));
      }, deadlineMs);
      this.pending.set(id, { resolve, reject, timer, what });
      try {
        this.sendRaw(msg);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(e instanceof Error ? e : new HarnessError(String(e)));
      }
    });
  }

  protected settle(id: number | string, err: Error | undefined, value?: unknown): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(value);
    return true;
  }

  /** Rejects everything in flight, e.g. when the guest died; later requests fail at once. */
  failAll(err: Error): void {
    if (!this.closedError) this.closedError = err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new HarnessError(`${p.what}: ${err.message}`, (err as HarnessError).details));
      this.pending.delete(id);
    }
    this.emit('closed', err);
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** A connected socket, or undefined while the socket is not there or not listening yet; other errors throw. */
function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise<Socket | undefined>((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.destroy();
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(undefined);
      else reject(e);
    });
  });
}
