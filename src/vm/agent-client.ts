// The host's end of the agent channel, and a GuestFs on top of it.
import { HarnessError } from '../util/errors.js';
import { Message, type WireError } from '../guest/protocol.js';
import type { ExecResult } from '../guest/ops.js';
import type { GuestFs } from '../orchestrate/guest-fs.js';
import { JsonLinesSocket } from './json-lines-socket.js';
import { guestFsOver, waitForOver, type WaitTest } from './agent-calls.js';
import { AGENT_CALL_MS, AGENT_EXEC_MS, AGENT_REPLY_SLACK_MS } from '../util/timeouts.js';
import { AdminGuard } from '../orchestrate/admin-guard.js';

/** An error the guest reported, with its errno code and path. */
export class GuestError extends Error {
  readonly code?: string;
  readonly path?: string;
  readonly errno?: number;
  constructor(
    readonly op: string,
    wire: WireError,
  ) {
    super(`${op}: ${wire.message}`);
    this.name = 'GuestError';
    this.code = wire.code;
    this.path = wire.path;
    this.errno = wire.errno;
  }
}

export class AgentClient extends JsonLinesSocket {
  private nextId = 1;
  /** Armed by the scenario runner when a reset is triggered. */
  readonly guard = new AdminGuard();

  protected onMessage(raw: unknown): void {
    const parsed = Message.safeParse(raw);
    if (!parsed.success) {
      this.emit('garbage', JSON.stringify(raw));
      return;
    }
    const m = parsed.data;
    if ('event' in m) {
      this.emit('event', m.event, m.data);
      this.emit(`event:${m.event}`, m.data);
      return;
    }
    if (m.ok) this.settle(m.id, undefined, m.result);
    else this.settle(m.id, new GuestError(this.opOf(m.id), m.error));
  }

  private readonly ops = new Map<number, string>();
  private opOf(id: number): string {
    const op = this.ops.get(id) ?? 'agent';
    this.ops.delete(id);
    return op;
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}, deadlineMs = AGENT_CALL_MS): Promise<T> {
    try {
      this.guard.check(op, args);
    } catch (e) {
      return Promise.reject(new HarnessError((e as Error).message));
    }
    const id = this.nextId++;
    this.ops.set(id, op);
    const what = `agent ${op}${typeof args.path === 'string' ? ` ${args.path}` : ''}`;
    return this.request(id, { id, op, args, deadlineMs }, deadlineMs + AGENT_REPLY_SLACK_MS, what) as Promise<T>;
  }

  exec(argv: string[], opts: { deadlineMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<ExecResult> {
    return this.call<ExecResult>('exec', { argv, input: opts.input, env: opts.env }, opts.deadlineMs ?? AGENT_EXEC_MS);
  }

  /** Runs a command and fails with its stderr unless it exits 0. */
  async check(argv: string[], opts: { deadlineMs?: number; input?: string } = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.exitCode !== 0) {
      throw new HarnessError(`guest: ${argv.join(' ')} exited ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim() || r.stdout.trim()}`);
    }
    return r.stdout;
  }

  waitFor(path: string, test: WaitTest, value: string | undefined, deadlineMs: number, intervalMs?: number): Promise<{ value?: string; elapsedMs: number }> {
    return waitForOver(this.call.bind(this), { path, test, value, deadlineMs, intervalMs });
  }

  /** A GuestFs whose every call goes through this channel. */
  fs(deadlineMs?: number): GuestFs {
    return guestFsOver(this.call.bind(this), deadlineMs);
  }
}
