// A test double of one VM's agent channel (what src/orchestrate/nvme-lab.ts calls
// LabAgent): the same calls as AgentClient, the real no-admin guard in front of them,
// and an in-memory guest file tree (MemConfigfs, which also keeps nvmet's configfs
// rules) behind them. Ops the tree cannot answer (exec, fabrics.connect, timeline...)
// go to handlers the fake lab installs. Every call is logged for assertions.
import type { ExecResult } from '../../src/guest/ops.js';
import { AdminGuard } from '../../src/orchestrate/admin-guard.js';
import type { TargetConfig } from '../../src/orchestrate/configfs/model.js';
import { applyConfig } from '../../src/orchestrate/configfs/nvmet-apply.js';
import { MemConfigfs } from './memfs.js';
import type { GuestFs } from '../../src/orchestrate/guest-fs.js';
import type { LabAgent } from '../../src/orchestrate/nvme-lab.js';
import { HarnessError } from '../../src/util/errors.js';
import { guestFsOver, waitForOver, type WaitTest } from '../../src/vm/agent-calls.js';

export type Handler = (args: Record<string, unknown>, deadlineMs: number) => unknown;
export type ExecHandler = (argv: string[]) => ExecResult | Promise<ExecResult> | undefined;

export const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
export const failed = (stderr: string, exitCode = 1): ExecResult => ({ exitCode, stdout: '', stderr, timedOut: false });

/** An error as the agent reports one: a message with an errno code. */
export function guestError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FakeAgent implements LabAgent {
  readonly guard = new AdminGuard();
  /** Every call that got past the guard, in order. */
  readonly calls: { op: string; args: Record<string, unknown> }[] = [];
  readonly handlers = new Map<string, Handler>();
  /** Tried in order; the first that returns a result answers. Unanswered: exit 0. */
  readonly execHandlers: ExecHandler[] = [];
  /** Called after every successful write-like op on the tree, with the op and path. */
  readonly listeners: ((op: string, path: string, data?: string) => void)[] = [];
  /** Files whose content is computed when read (a loader's progress file). */
  readonly dynamicFiles = new Map<string, () => string>();
  /** Whether a path is a block device now (waitFor's `block` test); the fake lab says which. */
  isBlockDevice: (path: string) => boolean = (path) => this.files.devices.has(path);

  constructor(
    readonly vm: string,
    readonly files: MemConfigfs = new MemConfigfs({ devices: ['/dev/ram0', '/dev/ram1'] }),
  ) {}

  /** The ops that ran, by name (e.g. "exec", "fabrics.connect"). */
  ops(name: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.op === name).map((c) => c.args);
  }
  /** The argv of every exec, joined. */
  execs(): string[] {
    return this.ops('exec').map((a) => (a.argv as string[]).join(' '));
  }

  async call<T = unknown>(op: string, args: Record<string, unknown> = {}, deadlineMs = 30_000): Promise<T> {
    try {
      this.guard.check(op, args);
    } catch (e) {
      throw new HarnessError((e as Error).message);
    }
    this.calls.push({ op, args });
    return (await this.dispatch(op, args, deadlineMs)) as T;
  }

  /** An installed handler, else the tree's own op. */
  private async dispatch(op: string, args: Record<string, unknown>, deadlineMs: number): Promise<unknown> {
    const h = this.handlers.get(op);
    if (h) return h(args, deadlineMs);
    return this.builtin(op, args, deadlineMs);
  }

  private async builtin(op: string, a: Record<string, unknown>, deadlineMs: number): Promise<unknown> {
    const f = this.files;
    const path = String(a.path);
    switch (op) {
      case 'readFile': {
        const dyn = this.dynamicFiles.get(path);
        return dyn ? dyn() : f.readFile(path);
      }
      case 'readdir':
        return f.readdir(path);
      case 'exists':
        return this.dynamicFiles.has(path) || f.exists(path);
      case 'writeFile':
        await f.writeFile(path, String(a.data));
        this.changed(op, path, String(a.data));
        return null;
      case 'mkdir':
      case 'rmdir':
      case 'unlink':
        await f[op](path);
        this.changed(op, path);
        return null;
      case 'symlink':
        await f.symlink(String(a.target), path);
        this.changed(op, path);
        return null;
      case 'waitFor':
        return this.waitFor_(path, a.test as string, a.value as string | undefined, deadlineMs, Number(a.intervalMs ?? 20));
      case 'clock':
        return { monoNs: process.hrtime.bigint().toString() };
      case 'warm':
      case 'settled':
        return null;
      case 'exec':
        return this.runExec(a.argv as string[]);
      case 'nvmet.apply':
        // As the guest does it (src/guest/ops-nvmet.ts): each file op dispatched as a
        // call of its own would be (handlers, listeners), one call in the log.
        return applyConfig(guestFsOver(<T>(o: string, args?: Record<string, unknown>, d?: number) => this.dispatch(o, args ?? {}, d ?? deadlineMs) as Promise<T>), a.config as TargetConfig);
      default:
        throw guestError('ENOSYS', `the fake agent of ${this.vm} has no op ${op}`);
    }
  }

  private changed(op: string, path: string, data?: string): void {
    for (const l of this.listeners) l(op, path, data);
  }

  private async runExec(argv: string[]): Promise<ExecResult> {
    for (const h of this.execHandlers) {
      const r = await h(argv);
      if (r) return r;
    }
    return ok();
  }

  private async read(path: string, presence: boolean): Promise<string | undefined> {
    if (this.isBlockDevice(path)) return 'a block device';
    if (!(await this.files.exists(path))) return undefined;
    return presence ? '' : (await this.files.readFile(path)).trim();
  }

  private async waitFor_(path: string, test: string, value: string | undefined, deadlineMs: number, intervalMs: number) {
    const start = Date.now();
    for (;;) {
      const v = await this.read(path, test === 'exists' || test === 'absent').catch(() => undefined);
      const holds =
        test === 'block' ? v === 'a block device'
        : test === 'exists' ? v !== undefined
        : test === 'absent' ? v === undefined
        : test === 'equals' ? v === value
        : test === 'notEquals' ? v !== undefined && v !== value
        : v !== undefined && new RegExp(value ?? '').test(v);
      if (holds) return { value: v, elapsedMs: Date.now() - start };
      if (Date.now() - start >= deadlineMs) throw guestError('ETIMEDOUT', `waited ${deadlineMs} ms for ${path} ${test}`);
      await sleep(intervalMs);
    }
  }

  exec(argv: string[], opts: { deadlineMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<ExecResult> {
    return this.call<ExecResult>('exec', { argv, input: opts.input, env: opts.env }, opts.deadlineMs ?? 60_000);
  }

  async check(argv: string[], opts: { deadlineMs?: number; input?: string } = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.exitCode !== 0) throw new HarnessError(`guest: ${argv.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  waitFor(path: string, test: WaitTest, value: string | undefined, deadlineMs: number, intervalMs?: number): Promise<{ value?: string; elapsedMs: number }> {
    return waitForOver(this.call.bind(this), { path, test, value, deadlineMs, intervalMs });
  }

  fs(deadlineMs?: number): GuestFs {
    return guestFsOver(this.call.bind(this), deadlineMs);
  }
}
