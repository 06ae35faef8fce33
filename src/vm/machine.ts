// One lab VM: builds its initramfs, starts QEMU (killed with the harness, whatever
// happens), captures the console, connects QMP and the agent, and waits for the agent
// to say it is ready. A guest that panics, hangs at boot or exits early becomes a
// HarnessError that carries the console's last lines.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { HarnessError, errorMessage } from '../util/errors.js';
import { withDeadline } from '../util/deadline.js';
import { KILL_MS, POWEROFF_CALL_MS, POWEROFF_MS, QMP_CONNECT_MS, QMP_OPEN_MS, VM_BOOT_MS } from '../util/timeouts.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { KernelSpec } from '../kernel/resolve.js';
import type { KmsgRecord } from '../guest/protocol.js';
import { AgentClient } from './agent-client.js';
import { ConsoleCapture } from './console.js';
import { BUNDLE_DIR, guestBundle } from './guest-bundle.js';
import { guestRuntime, guestRuntimeDir } from './guest-runtime.js';
import { initramfsFor } from './initramfs.js';
import { SHELL_SOCKET, kernelAppend, qemuArgs, detectAccel, snapshotKeyArgs, type Accel, type BootRxe, type NicSpec, type QemuSpec } from './qemu-args.js';
import { QmpClient } from './qmp.js';
import { track, untrack } from './reaper.js';
import { FATAL_SPLATS, type Splat } from './splats.js';
import { stuckLinkReason } from './lab-link.js';
import { SNAPSHOT_POINT, goLine, restoreState, saveAtPoint } from './snapshot-boot.js';
import { findSnapshot, forgetSnapshot, pruneSnapshots, snapshotKey, type StoredSnapshot } from './snapshot-store.js';

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
  /** Where saved VM states are kept (snapshot-store.ts); absent: every boot is cold. */
  snapshots?: string;
  /** Where the agent's runtime disk images are kept (guest-runtime.ts); default guestRuntimeDir(). */
  runtimeDir?: string;
}

export type BootFrom = 'cold' | 'cold, state saved' | 'snapshot';

/** A saved state that did not give a ready VM: QEMU could not load it, or the VM failed before its agent said ready. */
class SnapshotLoadError extends HarnessError {}

interface SnapshotPlan {
  dir: string;
  key: string;
  found?: StoredSnapshot;
}

interface BootPlan {
  qemu: string;
  args: string[];
  qmpSocket: string;
  agentSocket: string;
  snapshot?: SnapshotPlan;
}

/** The VM's command line, its initramfs written, and the saved state it can start from. */
async function planBoot(o: MachineOptions): Promise<BootPlan> {
  const initrd = join(o.runDir, 'initramfs.cpio');
  const runtime = await guestRuntime(o.runtimeDir ?? guestRuntimeDir());
  const initrdBytes = await initramfsFor({ modulesDir: o.kernel.modulesDir, initScript: join(o.project, 'vm', 'init'), role: o.role, runtime, agentDir: join(o.project, BUNDLE_DIR) });
  await writeFile(initrd, initrdBytes);
  const accel = o.accel ?? detectAccel();
  const spec: QemuSpec = {
    name: o.name,
    kernel: o.kernel.image,
    initrd,
    append: kernelAppend({ modulesDir: o.kernel.modulesDir, project: o.project, hostname: o.name, role: o.role, ip: o.ip, moreIps: o.moreIps, mtu: o.mtu, rxe: o.rxe, accel, snapshotPoint: o.snapshots !== undefined }),
    memMb: o.memMb ?? 1024,
    accel,
    shareRoot: '/',
    qmpSocket: join(o.runDir, 'qmp.sock'),
    agentSocket: join(o.runDir, 'agent.sock'),
    shellSocket: join(o.runDir, SHELL_SOCKET),
    nics: o.nics,
    runtimeImage: runtime.image,
  };
  const qemu = o.qemu ?? process.env.RESET_BENCH_QEMU ?? 'qemu-system-x86_64';
  const plan: BootPlan = { qemu, args: qemuArgs(spec), qmpSocket: spec.qmpSocket, agentSocket: spec.agentSocket };
  if (o.snapshots === undefined) return plan;
  const key = await snapshotKey({ args: snapshotKeyArgs(spec), initrd: initrdBytes, files: [o.kernel.image, onPath(qemu), runtime.image] });
  return { ...plan, snapshot: { dir: o.snapshots, key, found: await findSnapshot(o.snapshots, key) } };
}

/** A program's path as execa would find it (PATH searched for a bare name). */
function onPath(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new HarnessError(`${name} is not on PATH: install qemu-system-x86 or set RESET_BENCH_QEMU`);
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
  /** How the VM got to its snapshot point: booted (and saved there, the first time) or restored. */
  bootFrom: BootFrom = 'cold';
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

  /** QEMU's process id (setpriv execs it). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

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

  /**
   * Boots the VM, from a saved state when `snapshots` has one for it (snapshot-boot.ts);
   * a state QEMU cannot load is dropped and the VM boots cold instead.
   */
  static async boot(o: MachineOptions): Promise<Machine> {
    const log = o.log ?? silentLogger;
    await mkdir(o.runDir, { recursive: true, mode: 0o700 });
    await mkdir(o.logDir, { recursive: true });
    // The guest runs its agent from the bundle (a copy in the initramfs): current before QEMU starts.
    await guestBundle(o.project);
    const plan = await planBoot(o);
    if (!plan.snapshot?.found) return Machine.bootOnce(o, plan);
    try {
      return await Machine.bootOnce(o, plan);
    } catch (err) {
      if (!(err instanceof SnapshotLoadError)) throw err;
      log.warn({ vm: o.name, snapshot: plan.snapshot.key, err: err.message }, 'the saved VM state did not load: dropped, booting cold');
      await forgetSnapshot(plan.snapshot.dir, plan.snapshot.key);
      return Machine.bootOnce(o, { ...plan, snapshot: { ...plan.snapshot, found: undefined } });
    }
  }

  private static async bootOnce(o: MachineOptions, plan: BootPlan): Promise<Machine> {
    const log = o.log ?? silentLogger;
    const restoring = plan.snapshot?.found;
    log.debug({ vm: o.name, qemu: plan.qemu, args: plan.args, snapshot: plan.snapshot?.key, restoring: Boolean(restoring) }, 'starting QEMU');
    const started = Date.now();
    const proc = execa('setpriv', ['--pdeathsig', 'KILL', '--', plan.qemu, ...plan.args, ...(restoring ? ['-incoming', 'defer'] : [])], {
      stdin: plan.snapshot ? 'pipe' : 'ignore', // stage 1's go line at the snapshot point
      buffer: false,
      reject: false,
      cleanup: true,
    });
    if (proc.pid === undefined) throw new HarnessError(`could not start ${plan.qemu}`);
    track(proc.pid);
    proc.stdin?.on('error', () => undefined); // QEMU gone: its exit is reported, not the pipe
    const cons = new ConsoleCapture(join(o.logDir, `${o.name}.console.log`));
    if (plan.snapshot && !restoring) cons.recordTranscript(); // saved with the state
    if (restoring) cons.write(Buffer.from(`${restoring.console}reset-bench: ${o.name} restored from saved state ${restoring.key} (the lines above are the boot that saved it)\n`));
    proc.stdout?.on('data', (b: Buffer) => cons.write(b));
    proc.stderr?.on('data', (b: Buffer) => cons.write(Buffer.from(`[qemu] ${b.toString()}`)));
    const m: Machine = new Machine(o, proc, cons, new AgentClient(plan.agentSocket), new QmpClient(plan.qmpSocket), proc.then((r) => {
      untrack(proc.pid!);
      m.onExit(r.exitCode, r.signal);
    }));
    m.watch(log);
    try {
      await m.waitReady(plan, o.bootDeadlineMs ?? VM_BOOT_MS, log);
      m.bootMs = Date.now() - started;
      log.info({ vm: o.name, bootMs: m.bootMs, bootFrom: m.bootFrom, guestUptimeS: m.ready?.uptimeS, kernel: m.ready?.kernel }, 'guest ready');
      return m;
    } catch (err) {
      await m.kill();
      const reason = err instanceof Error ? err.message : String(err);
      // A restored VM that never says ready is the state's fault as likely as not (an
      // agent saved broken): dropped, and the cold boot after it says what is wrong.
      const Err = restoring && !m.ready ? SnapshotLoadError : HarnessError;
      if (Err === SnapshotLoadError) await cons.close(); // the cold boot after it appends to the same log
      throw new Err(`${reason}\n--- console of ${o.name} (last lines) ---\n${cons.tailText()}`, {
        consoleTail: cons.tailText(),
        logPath: cons.logPath,
        cause: err,
      });
    }
  }

  /** Kernel records from the agent, and the console's reports and stage 1's failure, as they come. */
  private watch(log: Logger): void {
    this.agent.on('event:kmsg', (rec: KmsgRecord) => this.kmsg.push(rec));
    this.console.on('splat', (s: Splat) => {
      log.warn({ vm: this.name, splat: s.kind, line: s.line }, 'kernel report on the console');
      if (FATAL_SPLATS.has(s.kind)) this.fail(`guest ${this.name} crashed: ${s.line}`);
    });
    this.console.on('line', (line: string) => {
      if (line.includes('RESET_BENCH_INIT_FAILED')) this.fail(`guest ${this.name} could not start: ${line}`);
      const stuck = stuckLinkReason(this.name, line);
      if (stuck) this.fail(stuck);
    });
  }

  /** The agent's and QMP's sockets, the way past the snapshot point, and the agent's `ready`. */
  private async waitReady(plan: BootPlan, deadline: number, log: Logger): Promise<void> {
    const ready = new Promise<ReadyInfo>((resolve) => this.agent.once('event:ready', resolve));
    const failed = new Promise<never>((_, reject) => {
      this.onFailure = reject;
      if (this.crash) reject(this.crash);
    });
    failed.catch(() => undefined); // raced below
    const qmpOpen = withDeadline(Promise.race([this.qmp.open(QMP_OPEN_MS), failed]), QMP_CONNECT_MS, `QMP of ${this.name}`);
    qmpOpen.catch(() => undefined); // awaited below
    const pastPoint = plan.snapshot ? this.passPoint(plan.snapshot, qmpOpen, log) : Promise.resolve();
    pastPoint.catch(() => undefined); // awaited below
    await withDeadline(Promise.race([this.agent.connect(deadline, `agent of ${this.name}`), failed]), deadline, `the agent socket of ${this.name}`);
    await qmpOpen;
    await withDeadline(Promise.race([pastPoint, failed]), deadline, `guest ${this.name} to reach its snapshot point`);
    this.ready = await withDeadline(Promise.race([ready, failed]), deadline, `guest ${this.name} to boot to agent-ready`);
  }

  /**
   * Restoring: QEMU loads the state, the VM runs, and stage 1 gets its go line. Booting
   * cold: at the point, the VM is saved when the cache has no state for it, then goes on.
   */
  private async passPoint(snap: SnapshotPlan, qmpOpen: Promise<void>, log: Logger): Promise<void> {
    if (snap.found) {
      await qmpOpen;
      await restoreState(this.qmp, { state: snap.found.state, runDir: this.opts.runDir });
      log.debug({ vm: this.name, snapshot: snap.key }, 'saved state loaded, VM running');
      this.bootFrom = 'snapshot';
    } else {
      await new Promise<void>((resolve) => {
        const onLine = (line: string): void => {
          if (line.trim() !== SNAPSHOT_POINT) return;
          this.console.off('line', onLine);
          resolve();
        };
        this.console.on('line', onLine);
      });
      await qmpOpen;
      await this.saveState(snap, log);
    }
    this.proc.stdin?.write(goLine());
  }

  /** Saves the VM waiting at the point; a save that fails is logged, and the boot goes on cold. */
  private async saveState(snap: SnapshotPlan, log: Logger): Promise<void> {
    const t0 = Date.now();
    try {
      await saveAtPoint(this.qmp, { dir: snap.dir, key: snap.key, runDir: this.opts.runDir, consoleText: this.console.transcript() });
      this.bootFrom = 'cold, state saved';
      log.info({ vm: this.name, snapshot: snap.key, saveMs: Date.now() - t0 }, 'VM state saved at the snapshot point');
      await pruneSnapshots(snap.dir);
    } catch (err) {
      log.warn({ vm: this.name, snapshot: snap.key, err: errorMessage(err) }, 'could not save the VM state at the snapshot point');
    }
    await this.qmp.execute('cont');
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
    await this.console.close();
  }
}
