// One lab VM: builds its initramfs, starts QEMU (killed with the harness, whatever
// happens), captures the console, connects QMP and the agent, and waits for the agent
// to say it is ready. A guest that panics, hangs at boot or exits early becomes a
// HarnessError that carries the console's last lines.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { HarnessError } from '../util/errors.js';
import { withDeadline } from '../util/deadline.js';
import { KILL_MS, POWEROFF_CALL_MS, POWEROFF_MS, QMP_CONNECT_MS, QMP_OPEN_MS, VM_BOOT_MS } from '../util/timeouts.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { KernelSpec } from '../kernel/resolve.js';
import type { KmsgRecord } from '../guest/protocol.js';
import { AgentClient } from './agent-client.js';
import { ConsoleCapture } from './console.js';
import { guestBundle } from './guest-bundle.js';
import { initramfsFor } from './initramfs.js';
import { SHELL_SOCKET, kernelAppend, qemuArgs, detectAccel, type Accel, type BootRxe, type NicSpec } from './qemu-args.js';
import { QmpClient } from './qmp.js';
import { track, untrack } from './reaper.js';
import { FATAL_SPLATS, type Splat } from './splats.js';

export interface MachineOptions {
  name: string;
  role: 'host' | 'target' | 'both';
  kernel: KernelSpec;
  /** Private (0700) directory for this VM's sockets and initramfs. */
  runDir: string;
  /** Where console.log goes (kept after the run). */
  logDir: string;
  project: string;
  ip?: string;
  /** Addresses of eth1, eth2...: one per further NIC (pair2). */
  moreIps?: string[];
  /** Every NIC's MTU; absent: the driver's default (1500). */
  mtu?: number;
  /** rxe devices the guest makes at boot, before its agent starts. */
  rxe?: readonly BootRxe[];
  nics: NicSpec[];
  memMb?: number;
  accel?: Accel;
  bootDeadlineMs?: number;
  log?: Logger;
  qemu?: string;
}

export interface ReadyInfo {
  monoNs: string;
  uptimeS: number;
  role: string;
  kernel: string;
  pid: number;
}

export class Machine {
  readonly kmsg: KmsgRecord[] = [];
  /** Wall-clock ms from spawning QEMU to the agent's ready event. */
  bootMs = 0;
  ready?: ReadyInfo;
  private poweringOff = false;
  private exitInfo?: { code?: number; signal?: string };
  private crash?: HarnessError;

  private constructor(
    readonly opts: MachineOptions,
    readonly proc: ResultPromise,
    readonly console: ConsoleCapture,
    readonly agent: AgentClient,
    readonly qmp: QmpClient,
    readonly exited: Promise<void>,
  ) {}

  get name(): string {
    return this.opts.name;
  }
  get splats(): Splat[] {
    return this.console.splats;
  }
  get alive(): boolean {
    return this.exitInfo === undefined;
  }
  get crashed(): HarnessError | undefined {
    return this.crash;
  }

  static async boot(o: MachineOptions): Promise<Machine> {
    const log = o.log ?? silentLogger;
    await mkdir(o.runDir, { recursive: true, mode: 0o700 });
    await mkdir(o.logDir, { recursive: true });
    // The guest runs its agent from the bundle (vm/guest-init.sh): current before QEMU starts.
    await guestBundle(o.project);
    const initrd = join(o.runDir, 'initramfs.cpio');
    await writeFile(initrd, await initramfsFor({ modulesDir: o.kernel.modulesDir, initScript: join(o.project, 'vm', 'init'), role: o.role }));
    const qmpSocket = join(o.runDir, 'qmp.sock');
    const agentSocket = join(o.runDir, 'agent.sock');
    const accel = o.accel ?? detectAccel();
    const args = qemuArgs({
      name: o.name,
      kernel: o.kernel.image,
      initrd,
      append: kernelAppend({ modulesDir: o.kernel.modulesDir, project: o.project, hostname: o.name, role: o.role, ip: o.ip, moreIps: o.moreIps, mtu: o.mtu, rxe: o.rxe, accel }),
      memMb: o.memMb ?? 1024,
      accel,
      shareRoot: '/',
      qmpSocket,
      agentSocket,
      shellSocket: join(o.runDir, SHELL_SOCKET),
      nics: o.nics,
    });
    const qemu = o.qemu ?? process.env.RESET_BENCH_QEMU ?? 'qemu-system-x86_64';
    log.debug({ vm: o.name, qemu, args }, 'starting QEMU');
    const started = Date.now();
    const proc = execa('setpriv', ['--pdeathsig', 'KILL', '--', qemu, ...args], {
      stdin: 'ignore',
      buffer: false,
      reject: false,
      cleanup: true,
    });
    if (proc.pid === undefined) throw new HarnessError(`could not start ${qemu}`);
    track(proc.pid);
    const cons = new ConsoleCapture(join(o.logDir, `${o.name}.console.log`));
    proc.stdout?.on('data', (b: Buffer) => cons.write(b));
    proc.stderr?.on('data', (b: Buffer) => cons.write(Buffer.from(`[qemu] ${b.toString()}`)));
    const agent = new AgentClient(agentSocket);
    const qmp = new QmpClient(qmpSocket);
    const m: Machine = new Machine(
      o,
      proc,
      cons,
      agent,
      qmp,
      proc.then((r) => {
        untrack(proc.pid!);
        m.onExit(r.exitCode, r.signal);
      }),
    );
    agent.on('event:kmsg', (rec: KmsgRecord) => m.kmsg.push(rec));
    cons.on('splat', (s: Splat) => {
      log.warn({ vm: o.name, splat: s.kind, line: s.line }, 'kernel report on the console');
      if (FATAL_SPLATS.has(s.kind)) m.fail(`guest ${o.name} crashed: ${s.line}`);
    });
    cons.on('line', (line: string) => {
      if (line.includes('RESET_BENCH_INIT_FAILED')) m.fail(`guest ${o.name} could not start: ${line}`);
    });

    const deadline = o.bootDeadlineMs ?? VM_BOOT_MS;
    try {
      const ready = new Promise<ReadyInfo>((resolve) => agent.once('event:ready', resolve));
      const failed = new Promise<never>((_, reject) => {
        m.onFailure = reject;
        if (m.crash) reject(m.crash);
      });
      await withDeadline(Promise.race([agent.connect(deadline, `agent of ${o.name}`), failed]), deadline, `the agent socket of ${o.name}`);
      await withDeadline(Promise.race([qmp.open(QMP_OPEN_MS), failed]), QMP_CONNECT_MS, `QMP of ${o.name}`);
      m.ready = await withDeadline(Promise.race([ready, failed]), deadline, `guest ${o.name} to boot to agent-ready`);
      m.bootMs = Date.now() - started;
      log.info({ vm: o.name, bootMs: m.bootMs, guestUptimeS: m.ready.uptimeS, kernel: m.ready.kernel }, 'guest ready');
      return m;
    } catch (err) {
      await m.kill();
      const reason = err instanceof Error ? err.message : String(err);
      throw new HarnessError(`${reason}\n--- console of ${o.name} (last lines) ---\n${cons.tailText()}`, {
        consoleTail: cons.tailText(),
        logPath: cons.logPath,
        cause: err,
      });
    }
  }

  private onFailure?: (e: HarnessError) => void;

  private fail(message: string): void {
    if (this.crash) return;
    this.crash = new HarnessError(`${message}\n--- console of ${this.name} (last lines) ---\n${this.console.tailText()}`, {
      consoleTail: this.console.tailText(),
      logPath: this.console.logPath,
    });
    this.agent.failAll(this.crash);
    this.onFailure?.(this.crash);
    void this.kill();
  }

  private onExit(code?: number, signal?: string): void {
    this.exitInfo = { code, signal };
    if (!this.poweringOff) {
      // Give the console a moment to deliver the panic text before naming the cause.
      this.fail(`QEMU for ${this.name} exited unexpectedly (${signal ?? `code ${code}`})`);
    }
    this.agent.close();
    this.qmp.close();
  }

  /** Clean power-off through the agent; QEMU is killed if the guest does not go down in time. */
  async poweroff(deadlineMs = POWEROFF_MS): Promise<void> {
    if (!this.alive) return;
    this.poweringOff = true;
    try {
      await this.agent.call('poweroff', {}, POWEROFF_CALL_MS);
      await withDeadline(this.exited, deadlineMs, `${this.name} to power off`);
    } catch {
      await this.kill();
    } finally {
      await this.console.close();
    }
  }

  async kill(): Promise<void> {
    this.poweringOff = true;
    if (this.alive) this.proc.kill('SIGKILL');
    await withDeadline(this.exited, KILL_MS, `QEMU ${this.name} to die after SIGKILL`).catch(() => {});
  }
}
