// A fake lab for the scenario runner's unit tests: two fake VMs (one on loopback) behind
// the runner's boundary (src/scenario/lab.ts), and a small simulation of what the
// kernels do that the runner watches: an nvmet port in the target's configfs, the
// host's controllers in /sys/class/nvme (connect, reset, reconnect, delete, rmmod), the
// loader (its progress file, its signals, its JSON) and the timeline sampler. How the
// controller reacts to a device reset is an option (recovers, deleted, stuck...), so a
// test can play the patched or the stock kernel.
import { join } from 'node:path';
import type { KmsgRecord } from '../../src/guest/protocol.js';
import type { TimelineSample } from '../../src/guest/ops-timeline.js';
import type { KernelSpec } from '../../src/kernel/resolve.js';
import { LAB_NQN } from '../../src/orchestrate/nvme-lab.js';
import { resetRunsTools } from '../../src/reset/index.js';
import type { BootRequest, LabDriver, LabVm, ResetPlan, RunLab } from '../../src/scenario/lab.js';
import { controlFileOf } from '../../src/load/progress-file.js';
import { PROGRESS_FILE } from '../../src/scenario/loader.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';
import type { Splat } from '../../src/vm/splats.js';
import type { LabLink } from '../../src/vm/topology.js';
import { FakeAgent, failed, guestError, ok } from './fake-lab-agent.js';
import { fakeLoadResult, type FakeLoaderOutcome } from './fake-lab-loader.js';
import { tempDirSync } from './temp-dir.js';

export { FakeAgent, ok, failed, guestError } from './fake-lab-agent.js';

export interface FakeLabOptions {
  topology?: 'pair' | 'loopback';
  /** What the host's controller does when its device goes away and comes back ('unnoticed': stays live, a target-side reset not noticed yet). */
  onReset?: 'recovers' | 'deleted' | 'stuck' | 'live-no-io' | 'trigger-blocks-deleting' | 'unnoticed';
  /** ms from the device back (or a reset_controller) to live again. */
  reconnectMs?: number;
  /** ms from the device gone to the controller deleted ('deleted'; 'trigger-blocks-deleting': the trigger returns then). */
  deleteAfterMs?: number;
  /** A connect while the device is away: refused (ECONNRESET) or held until it is back. */
  connectWhileDown?: 'refuse' | 'block';
  /** A trigger that blocks this long in the kernel (stock's removal behind a connect in flight), ms. */
  triggerBlocksMs?: number;
  /** How long a connect write takes when nothing is wrong, ms. */
  connectMs?: number;
  /** VMs whose kernel has kmemleak, and what a scan then reports. */
  kmemleak?: { vms: ('host' | 'target' | 'lab')[]; report?: string };
  /** A target port enabled (its subsystem link made) while the device is away: stock refuses it (ENODEV), patched keeps it. */
  portWhileDown?: 'refuse' | 'keep';
  /** The loader's end: its verify counts, errors, or that it stops on its own. */
  loader?: FakeLoaderOutcome;
  /**
   * The target's listener on its port (rdma.listeners): bound again when the device is
   * back (patched), or dropped for good at a target-side reset (stock: the host's
   * reconnects are refused from then on). Absent: the target answers no such query.
   */
  listener?: 'kept' | 'dropped';
}

export class FakeVm implements LabVm {
  readonly kmsg: KmsgRecord[] = [];
  readonly splats: Splat[] = [];
  readonly console: { logPath: string; tailText(lines?: number): string };
  bootMs = 5;
  bootFrom = 'cold' as const;
  /** A process of this machine the harness watches as the VM's QEMU (starvation tests); none by default. */
  pid?: number;
  /** Timeline samples since boot (guest time = the harness's hrtime here). */
  readonly samples: TimelineSample[] = [];

  constructor(
    readonly name: string,
    readonly agent: FakeAgent,
    logDir: string,
  ) {
    this.console = { logPath: join(logDir, `${name}.console.log`), tailText: () => `(console of ${name})` };
  }

  sample(key: string, value: string): void {
    this.samples.push({ t: process.hrtime.bigint().toString(), kind: 'state', key, value });
  }
}

const NVME = '/sys/class/nvme';

export class FakeLab implements RunLab {
  readonly kind: 'pair' | 'loopback';
  readonly host: FakeVm;
  readonly target: FakeVm;
  readonly machines: FakeVm[];
  readonly targetAddr = '10.99.0.1';
  readonly hostAddr: string;
  readonly links: LabLink[];
  deviceUp = true;
  /** Every trigger and restore, in order, with the VMs named. */
  readonly resetLog: string[] = [];
  state: 'running' | 'shut down' | 'killed' = 'running';
  private nextInstance = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters: (() => void)[] = [];
  /** When I/O could flow (loader running, controller live, device up), as [hrtime ns, flowing]. */
  readonly flow: [bigint, boolean][] = [];
  loader?: { startNs: bigint; end: (r: { stdout: string }) => void };

  constructor(readonly o: FakeLabOptions = {}) {
    this.kind = o.topology ?? 'pair';
    const logDir = tempDirSync('rb-fake-lab-');
    if (this.kind === 'loopback') {
      const vm = new FakeVm('lab', new FakeAgent('lab'), logDir);
      this.host = this.target = vm;
      this.machines = [vm];
      this.hostAddr = this.targetAddr;
    } else {
      this.target = new FakeVm('target', new FakeAgent('target'), logDir);
      this.host = new FakeVm('host', new FakeAgent('host'), logDir);
      this.machines = [this.target, this.host];
      this.hostAddr = '10.99.0.2';
    }
    this.links = [{ index: 0, netdev: 'eth0', nicId: 'nic0', targetAddr: this.targetAddr, hostAddr: this.hostAddr }];
    for (const m of this.machines) this.installCommon(m);
    this.installHost(this.host);
    this.installTarget(this.target);
  }

  /** A LabDriver that "boots" this lab. */
  driver(): LabDriver {
    return {
      resolveKernel: async (choice): Promise<KernelSpec> => {
        const info = { series: '6.1', package_version: '6.1.0-fake', abi: '6.1.0-fake-amd64', variant: choice };
        const kernel = { name: choice, kver: '6.1.0-fake-amd64', image: '/nonexistent', modulesDir: '/nonexistent', info };
        return kernel;
      },
      boot: async (_req: BootRequest) => this,
    };
  }

  resetPlan(spec: Pick<ScenarioSpec, 'side' | 'reset' | 'paths' | 'restore' | 'hold_tx'>): ResetPlan {
    const vms = this.kind === 'loopback' ? ['lab'] : spec.side === 'both' ? ['target', 'host'] : [spec.side];
    return {
      describe: `fake ${spec.reset}`,
      vms,
      toolVms: resetRunsTools(spec) ? vms : [],
      trigger: () => this.triggerOn(vms),
      restore: async () => this.deviceBack(vms),
    };
  }

  async shutdown(): Promise<void> {
    this.stop('shut down');
  }
  async kill(): Promise<void> {
    this.stop('killed');
  }
  private stop(how: 'shut down' | 'killed'): void {
    if (this.state === 'running') this.state = how;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // ---- the simulated kernels ----

  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Controllers in the host's sysfs. */
  controllers(): string[] {
    return [...this.host.agent.files.nodes.keys()].filter((p) => /^\/sys\/class\/nvme\/nvme\d+$/.test(p)).map((p) => p.slice(NVME.length + 1));
  }

  controllerState(dev: string): string | undefined {
    const n = this.host.agent.files.nodes.get(`${NVME}/${dev}/state`);
    return n && n.kind === 'file' ? n.value : undefined;
  }

  setState(dev: string, state: string): void {
    if (this.controllerState(dev) === undefined) return;
    this.host.agent.files.seedFile(`${NVME}/${dev}/state`, state);
    this.host.sample(`nvme/${dev}`, state);
    this.noteFlow();
  }

  removeController(dev: string): void {
    if (this.controllerState(dev) === undefined) return;
    this.host.agent.files.remove(`${NVME}/${dev}`);
    this.host.sample(`nvme/${dev}`, 'absent');
    this.noteFlow();
  }

  private addController(): string {
    const dev = `nvme${this.nextInstance++}`;
    const f = this.host.agent.files;
    const base = `${NVME}/${dev}`;
    for (const [k, v] of Object.entries({ transport: 'rdma', address: `traddr=${this.targetAddr},trsvcid=4420`, subsysnqn: LAB_NQN, cntlid: '1', delete_controller: '', reset_controller: '' })) {
      f.seedFile(`${base}/${k}`, v);
    }
    f.seedDir(`${base}/${dev}c0n1`);
    f.seedFile(`${base}/state`, 'live');
    this.host.sample(`nvme/${dev}`, 'live');
    this.noteFlow();
    return dev;
  }

  /** Whether the target's configfs offers the subsystem on a port. */
  private portOffers(): boolean {
    return this.target.agent.files.nodes.has(`/sys/kernel/config/nvmet/ports/1/subsystems/${LAB_NQN}`);
  }

  /** Stock 6.1's PCI unbind: the controller goes to deleting at once, the trigger returns once it is deleted. */
  private triggerOn(vms: string[]): Promise<void> {
    this.deviceGone(vms);
    const blocksMs = this.o.triggerBlocksMs;
    if (blocksMs !== undefined) return new Promise((resolve) => this.after(blocksMs, resolve));
    if (this.o.onReset !== 'trigger-blocks-deleting') return Promise.resolve();
    const devs = this.controllers();
    for (const dev of devs) this.setState(dev, 'deleting (no IO)');
    return new Promise((resolve) =>
      this.after(this.o.deleteAfterMs ?? 60_000, () => {
        for (const dev of devs) this.removeController(dev);
        resolve();
      }),
    );
  }

  /** listener 'dropped': a target-side reset took the port's listener for good. */
  private listenerDropped = false;

  private deviceGone(vms: string[]): void {
    this.resetLog.push(`gone ${vms.join(',')}`);
    if (this.o.listener === 'dropped' && vms.includes(this.target.name)) this.listenerDropped = true;
    this.deviceUp = false;
    this.noteFlow();
    for (const dev of this.o.onReset === 'unnoticed' ? [] : this.controllers()) {
      this.setState(dev, 'resetting');
      this.setState(dev, 'connecting');
      if (this.o.onReset === 'deleted') this.after(this.o.deleteAfterMs ?? 20, () => this.removeController(dev));
    }
  }

  private deviceBack(vms: string[]): void {
    this.resetLog.push(`back ${vms.join(',')}`);
    this.deviceUp = true;
    this.noteFlow();
    for (const w of this.waiters.splice(0)) w();
    const how = this.o.onReset ?? 'recovers';
    if (how === 'recovers' || how === 'live-no-io') for (const dev of this.controllers()) this.reconnect(dev);
  }

  /** Tries to reconnect every reconnectMs until the device is up and the port offers the subsystem. */
  private reconnect(dev: string): void {
    this.after(this.o.reconnectMs ?? 30, () => {
      if (this.controllerState(dev) === undefined) return;
      if (this.deviceUp && this.portOffers() && !this.listenerDropped) this.setState(dev, 'live');
      else this.reconnect(dev);
    });
  }

  ioFlowing(): boolean {
    const dev = this.controllers()[0];
    const live = dev !== undefined && this.controllerState(dev) === 'live';
    const stalled = this.o.onReset === 'live-no-io' && this.resetLog.length > 0;
    return this.loader !== undefined && live && this.deviceUp && !stalled && !this.listenerDropped;
  }

  noteFlow(): void {
    const now = this.ioFlowing();
    const last = this.flow[this.flow.length - 1];
    if (!last || last[1] !== now) this.flow.push([process.hrtime.bigint(), now]);
  }

  /** I/Os completed so far: one per ms of flowing I/O. */
  completed(): number {
    let ms = 0;
    const points = [...this.flow, [process.hrtime.bigint(), false] as [bigint, boolean]];
    for (let i = 0; i + 1 < points.length; i++) if (points[i]![1]) ms += Number(points[i + 1]![0] - points[i]![0]) / 1e6;
    return Math.floor(ms);
  }

  private installCommon(m: FakeVm): void {
    const a = m.agent;
    a.files.seedDir('/sys/module');
    a.files.seedDir('/tmp');
    const leak = this.o.kmemleak;
    if (leak?.vms.includes(m.name as 'host')) {
      a.files.seedFile('/sys/kernel/debug/kmemleak', '');
      a.listeners.push((_op, path, data) => {
        if (path === '/sys/kernel/debug/kmemleak' && data === 'scan') a.files.seedFile(path, leak.report ?? '');
      });
    }
    a.handlers.set('rdma.newLink', (args) => {
      a.files.seedFile(`/sys/class/infiniband/${String(args.name)}/ports/1/state`, '4: ACTIVE');
      return null;
    });
    a.handlers.set('rdma.delLink', (args) => a.files.remove(`/sys/class/infiniband/${String(args.name)}`));
    a.handlers.set('rtnl.addLink', (args) => {
      if (args.kind !== 'dummy' || !a.files.nodes.has('/sys/module/dummy')) throw guestError('ENOTSUP', `add link ${String(args.name)}: no such link type`);
      a.files.seedFile(`/sys/class/net/${String(args.name)}/operstate`, 'down');
      return null;
    });
    a.handlers.set('rtnl.setUp', (args) => a.files.seedFile(`/sys/class/net/${String(args.name)}/operstate`, args.up ? 'unknown' : 'down'));
    a.handlers.set('rtnl.delLink', (args) => a.files.remove(`/sys/class/net/${String(args.name)}`));
    const started = new Map<number, number>();
    a.handlers.set('timeline.start', () => {
      const id = started.size + 1;
      started.set(id, m.samples.length);
      return { id, monoNs: process.hrtime.bigint().toString() };
    });
    a.handlers.set('timeline.stop', (args) => m.samples.slice(started.get(Number(args.id)) ?? 0));
    a.execHandlers.push((argv) => {
      if (argv[0] !== 'modprobe') return undefined;
      if (argv[1] === '-r') {
        a.files.remove(`/sys/module/${argv[2]!.replace(/-/g, '_')}`);
        return ok();
      }
      const dir = `/sys/module/${argv[1]!.replace(/-/g, '_')}`;
      a.files.seedDir(dir);
      // Its parameters, as sysfs shows them (brd's shape is read back from there).
      for (const [k, v] of argv.slice(2).map((p) => p.split('='))) a.files.seedFile(`${dir}/parameters/${k}`, `${v}\n`);
      return ok();
    });
  }

  /** nvmet-rdma enabling a port: with portWhileDown 'refuse' (stock), no RDMA device owns the address while it is away. */
  private installTarget(m: FakeVm): void {
    const a = m.agent;
    if (this.o.listener !== undefined) {
      a.handlers.set('rdma.listeners', () =>
        this.deviceUp && this.portOffers() && !this.listenerDropped ? [{ device: 'rxe0', addr: `${this.targetAddr}:4420`, kernName: 'nvmet_rdma' }] : [],
      );
    }
    a.handlers.set('symlink', async (args) => {
      const path = String(args.path);
      if (this.o.portWhileDown === 'refuse' && !this.deviceUp && /\/nvmet\/ports\/[^/]+\/subsystems\//.test(path)) throw guestError('ENODEV', `symlink '${path}'`);
      await a.files.symlink(String(args.target), path);
      return null;
    });
  }

  private installHost(m: FakeVm): void {
    const a = m.agent;
    a.handlers.set('load.run', (args) => this.runLoader(String(args.job)));
    a.handlers.set('fabrics.connect', async () => {
      await new Promise((r) => setTimeout(r, this.o.connectMs ?? 5));
      if (!this.deviceUp) {
        if (this.o.connectWhileDown !== 'block') throw guestError('ECONNRESET', 'write /dev/nvme-fabrics');
        await new Promise<void>((r) => this.waiters.push(r));
      }
      if (!this.portOffers()) throw guestError('ECONNREFUSED', 'write /dev/nvme-fabrics');
      return `instance=${this.addController().slice(4)},cntlid=1\n`;
    });
    a.listeners.push((_op, path, data) => {
      // The loader's control file: it signals itself with what the runner wrote there.
      if (path === controlFileOf(PROGRESS_FILE)) this.signalLoader(data === 'SIGUSR2');
      const del = /^\/sys\/class\/nvme\/(nvme\d+)\/delete_controller$/.exec(path);
      if (del) this.removeController(del[1]!);
      const reset = /^\/sys\/class\/nvme\/(nvme\d+)\/reset_controller$/.exec(path);
      if (reset) {
        this.setState(reset[1]!, 'resetting');
        this.setState(reset[1]!, 'connecting');
        this.reconnect(reset[1]!);
      }
    });
    // A namespace's /dev node is there while a controller is (devtmpfs, at once in the fake).
    a.isBlockDevice = (path) => /^\/dev\/nvme\d+n\d+$/.test(path) && this.controllers().length > 0;
    a.execHandlers.push((argv) => {
      if (argv[0] === 'rmmod' && argv[1] === 'nvme_rdma') {
        for (const dev of this.controllers()) this.removeController(dev);
        a.files.remove('/sys/module/nvme_rdma');
        return ok();
      }
      return undefined;
    });
  }

  /** The host agent's load.run: the job's I/O flows from now until the runner's control file (or stopsAfterMs) ends it. */
  private runLoader(job: string): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }> {
    return new Promise((resolve) => {
      const startNs = process.hrtime.bigint();
      this.loader = { startNs, end: (r) => resolve({ exitCode: 0, stdout: r.stdout, stderr: '', timedOut: false }) };
      this.noteFlow();
      // The progress file reads the I/O completed so far.
      this.host.agent.dynamicFiles.set(PROGRESS_FILE, () => `${this.completed()} 0 ${process.hrtime.bigint()}\n`);
      // The in-memory fs creates no file on write (configfs's rule): the control file is there, empty.
      this.host.agent.files.seedFile(controlFileOf(PROGRESS_FILE), '');
      const stopsAfter = this.o.loader?.stopsAfterMs;
      if (stopsAfter !== undefined) this.after(stopsAfter, () => this.endLoader(false));
      this.loaderJob = job;
    });
  }

  /** The job document the runner sent. */
  loaderJob?: string;

  private endLoader(verify: boolean): void {
    const l = this.loader;
    if (!l) return;
    const endNs = process.hrtime.bigint();
    const stdout = JSON.stringify(fakeLoadResult({ flow: this.flow, startNs: l.startNs, endNs, verify, job: this.loaderJob ?? '{}', outcome: this.o.loader ?? {} }));
    this.loader = undefined;
    this.noteFlow();
    l.end({ stdout });
  }

  private signalLoader(verify: boolean): { exitCode: number; stdout: string; stderr: string; timedOut: boolean } {
    if (!this.loader) return failed('', 1);
    this.endLoader(verify);
    return ok();
  }
}
