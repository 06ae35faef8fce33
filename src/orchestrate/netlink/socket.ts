// A netlink socket with request/response (sequence numbers, deadlines, ACKs,
// multipart dumps, extended ACK errors) and a monitor for multicast groups.
import { getSystemErrorMap } from 'node:util';
import { HarnessError } from '../../util/errors.js';
import { sleep, withDeadline } from '../../util/deadline.js';
import { NETLINK_ANSWER_MS, NETLINK_MONITOR_RETRY_MS, NETLINK_RECV_SLICE_MS } from '../../util/timeouts.js';
import { decodeDone, decodeError, decodeMsgs, encodeMsg, type ExtAck, type NlMsg } from './codec.js';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
} from './constants.js';
import { loadNativeNetlink, type NativeNetlink } from './native.js';

export function strerror(errno: number): string {
  return getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`;
}

/** The kernel refused a request. `what` says what was asked, `hint` the likely cause. */
export class NetlinkError extends HarnessError {
  constructor(
    readonly what: string,
    readonly errno: number,
    readonly code: string,
    readonly extAck: ExtAck = {},
    readonly hint?: string,
  ) {
    super(
      `${what}: ${code} (${strerror(errno)})` +
        (extAck.msg ? `: kernel says "${extAck.msg}"` : '') +
        (extAck.offset !== undefined && !extAck.msg ? ` (bad attribute at byte ${extAck.offset})` : '') +
        (hint ? `; ${hint}` : ''),
    );
    this.name = 'NetlinkError';
  }
}

export interface NetlinkOpenOptions {
  /** Multicast groups to join (group numbers, as in RTNLGRP_LINK = 1). */
  groups?: number[];
  /** Open the socket in this network namespace (e.g. /run/netns/NAME). */
  netns?: string;
  /** The native socket; tests pass a fake kernel. */
  native?: NativeNetlink;
}

export interface RequestOptions {
  /** Says what the request does, for errors ("RTM_NEWADDR 10.0.0.1/24 on eth0"). */
  what: string;
  timeoutMs?: number;
  /** Extra nlmsg_flags (NLM_F_CREATE | NLM_F_EXCL ...). */
  flags?: number;
  /** Turns an error into a hint for the message. */
  hint?: (code: string, extAck: ExtAck) => string | undefined;
}

/** bind()'s nl_groups mask (bit group - 1): enough for every group the harness joins. */
function groupsMask(groups: number[]): number {
  let mask = 0;
  for (const g of groups) {
    if (!Number.isInteger(g) || g < 1 || g > 32) throw new RangeError(`netlink multicast group ${g}: only groups 1-32 can be joined (through bind)`);
    mask |= 1 << (g - 1);
  }
  return mask >>> 0;
}

export class NetlinkSocket {
  readonly portid: number;
  readonly extAck: boolean;
  private fd: number;
  private seq: number;
  private lock: Promise<unknown> = Promise.resolve();
  private pendingRecv: Promise<unknown> | undefined;
  /** Messages that arrived but answer no request of ours (multicast, stale replies). */
  onUnsolicited?: (m: NlMsg) => void;

  private constructor(
    private readonly native: NativeNetlink,
    readonly protocol: number,
    opened: { fd: number; portid: number; extAck: boolean },
  ) {
    this.fd = opened.fd;
    this.portid = opened.portid;
    this.extAck = opened.extAck;
    this.seq = (Math.floor(Math.random() * 0x7fffffff) + 1) >>> 0;
  }

  static open(protocol: number, opts: NetlinkOpenOptions = {}): NetlinkSocket {
    const native = opts.native ?? loadNativeNetlink();
    const opened = native.nlOpen(protocol, groupsMask(opts.groups ?? []), opts.netns);
    return new NetlinkSocket(native, protocol, opened);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  private checkFd(): number {
    if (this.fd < 0) throw new HarnessError('netlink socket is closed');
    return this.fd;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  /** Raw receive: datagrams decoded into messages; [] on timeout. */
  async recv(timeoutMs: number): Promise<NlMsg[]> {
    const bufs = await this.recvDatagrams(timeoutMs);
    return bufs.flatMap((b) => decodeMsgs(b));
  }

  /** Raw datagrams, waiting at most min(timeoutMs, 250 ms) for the first. */
  async recvDatagrams(timeoutMs: number): Promise<Buffer[]> {
    const p = this.native.nlRecvAsync(this.checkFd(), Math.max(0, Math.min(timeoutMs, NETLINK_RECV_SLICE_MS)));
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.pendingRecv = settled;
    try {
      return await p;
    } finally {
      if (this.pendingRecv === settled) this.pendingRecv = undefined;
    }
  }

  /**
   * Sends a request; the kernel handles it inside the send, so this resolves when the
   * kernel has (an RDMA DELLINK: the device unregistered). Rejects with a DeadlineError
   * after waitMs with the send still under way on its worker thread: a kernel that holds
   * it is not a reason for the caller to hang.
   */
  async send(msg: Buffer, waitMs: number, what: string): Promise<void> {
    const sent = this.native.nlSendAsync(this.checkFd(), msg);
    // After the deadline the send settles late (a rejection then must not go unhandled:
    // withDeadline's race subscribes to it too, this says so here) or never. Nothing may
    // wait for it past the deadline: `.finally(() => sent.catch(...))` (the callback returns
    // that promise, and finally waits for it) or `await sent` in a finally would hold the
    // caller for as long as the kernel holds the send.
    sent.catch(() => undefined);
    await withDeadline(sent, waitMs, `the kernel to return from ${what} (its send is still blocked)`);
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * A request answered by zero or more messages and an ACK (NLM_F_ACK is always
   * set). Resolves with the answer messages (the ACK left out); rejects with
   * NetlinkError on an error ACK, DeadlineError when the kernel holds the send past the
   * deadline, HarnessError when no answer comes within it.
   */
  request(type: number, payload: Buffer, opts: RequestOptions): Promise<NlMsg[]> {
    return this.serialize(() => this.exchange(type, payload, NLM_F_REQUEST | NLM_F_ACK | (opts.flags ?? 0), false, opts));
  }

  /** A dump (NLM_F_DUMP): every multipart message until NLMSG_DONE. Retried up to
   * 3 times when the kernel marks it interrupted (NLM_F_DUMP_INTR). */
  dump(type: number, payload: Buffer, opts: RequestOptions): Promise<NlMsg[]> {
    return this.serialize(async () => {
      for (let attempt = 1; ; attempt++) {
        const r = await this.exchangeDump(type, payload, opts);
        if (!r.interrupted || attempt >= 3) return r.msgs;
      }
    });
  }

  private async exchangeDump(type: number, payload: Buffer, opts: RequestOptions) {
    let interrupted = false;
    const msgs = await this.exchange(type, payload, NLM_F_REQUEST | NLM_F_DUMP | (opts.flags ?? 0), true, opts, (m) => {
      if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
    });
    return { msgs, interrupted };
  }

  private async exchange(
    type: number,
    payload: Buffer,
    flags: number,
    isDump: boolean,
    opts: RequestOptions,
    onMsg?: (m: NlMsg) => void,
  ): Promise<NlMsg[]> {
    const seq = this.nextSeq();
    const timeoutMs = opts.timeoutMs ?? NETLINK_ANSWER_MS;
    const end = Date.now() + timeoutMs;
    await this.send(encodeMsg({ type, flags, seq, pid: 0, payload }), timeoutMs, opts.what);
    const out: NlMsg[] = [];
    const fail = (errno: number, code: string, extAck: ExtAck): never => {
      throw new NetlinkError(opts.what, errno, code, extAck, opts.hint?.(code, extAck));
    };
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) throw new HarnessError(`${opts.what}: no answer from the kernel within ${timeoutMs} ms`);
      const msgs = await this.recv(left);
      for (const m of msgs) {
        if (m.seq !== seq || (m.pid !== 0 && m.pid !== this.portid)) {
          this.onUnsolicited?.(m);
          continue;
        }
        onMsg?.(m);
        if (m.type === NLMSG_ERROR) {
          const e = decodeError(m);
          if (e.errno !== 0) fail(e.errno, e.code, e.extAck);
          return out; // the ACK ends a non-dump request (a dump gets one only on error)
        }
        if (m.type === NLMSG_DONE) {
          const d = decodeDone(m);
          if (d.errno !== 0) fail(d.errno, d.code, d.extAck);
          if (isDump) return out;
          continue;
        }
        if (m.type === NLMSG_NOOP) continue;
        if (m.type === NLMSG_OVERRUN) throw new HarnessError(`${opts.what}: netlink overrun`);
        out.push(m);
      }
    }
  }

  /** Closes the socket once a receive in flight (at most NETLINK_RECV_SLICE_MS) has finished. */
  async close(): Promise<void> {
    if (this.fd < 0) return;
    await this.lock.catch(() => undefined);
    await this.pendingRecv;
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.native.nlClose(fd);
  }
}

export interface MonitorOptions extends NetlinkOpenOptions {
  /** Called with receive errors (ENOBUFS = the kernel dropped events). The monitor goes on. */
  onError?: (err: unknown) => void;
}

/** Wall-clock time in ms with sub-ms resolution, for event timestamps. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * Listens on multicast groups and hands every datagram to `onDatagram` with the time
 * it was received. Runs until stop().
 */
export class NetlinkMonitor {
  private running = false;
  private loop: Promise<void> | undefined;
  private constructor(
    readonly socket: NetlinkSocket,
    private readonly onError?: (err: unknown) => void,
  ) {}

  static open(protocol: number, opts: MonitorOptions): NetlinkMonitor {
    return new NetlinkMonitor(NetlinkSocket.open(protocol, opts), opts.onError);
  }

  start(onDatagram: (buf: Buffer, receivedAt: number) => void): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        if (this.socket.closed) break;
        try {
          const bufs = await this.socket.recvDatagrams(NETLINK_RECV_SLICE_MS);
          const t = nowMs();
          for (const b of bufs) onDatagram(b, t);
        } catch (e) {
          if (!this.running) break;
          this.onError?.(e);
          if ((e as { code?: string }).code !== 'ENOBUFS') await sleep(NETLINK_MONITOR_RETRY_MS);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.socket.close();
  }
}
