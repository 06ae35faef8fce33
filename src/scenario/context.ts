// One run's state, handed from phase to phase: the spec and options, the run's clock,
// the lab once booted, and what each phase found (controller, resets, load result,
// events...). Phases read what earlier phases left and add their own.
import { join } from 'node:path';
import type { ClockMap } from '../orchestrate/clock.js';
import type { HostController } from '../orchestrate/nvme-lab.js';
import type { HostPath } from '../orchestrate/paths-lab.js';
import type { ExtraController, ExtraEnd, ExtraInFlight } from '../orchestrate/extra-ctrls.js';
import type { ResourceTotals } from './rdma-resources.js';
import type { LoadResult } from '../load/run.js';
import type { ExecResult } from '../guest/ops.js';
import { HarnessError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { AdminOutcome } from './admin-actions.js';
import type { ConnectRace } from './connect-race.js';
import type { RemovalRecord } from './reconnect-removal.js';
import type { StuckReset } from './stuck-reset.js';
import type { RelistenRecord } from './port-listeners.js';
import type { LabDriver, LabVm, RunLab } from './lab.js';
import type { GapMs, ResetWindow } from './metrics.js';
import type { ScenarioSpec } from './spec.js';
import type { StarvationWatch, StarvedStretch } from '../vm/starvation.js';
import type { IoPoint, KernelInfo, Metrics, TimelineEvent, Verdict } from './types.js';

export interface RunOptions {
  kernel: string;
  resultsDir: string;
  iteration: number;
  project: string;
  cache?: string;
  log?: Logger;
  progress?: (m: string) => void;
}

/** The loader running in the host VM. */
export interface LoaderRun {
  /** Settles when the loader's job ends (the host agent's load.run answers). */
  exit: Promise<ExecResult>;
  done(): boolean;
  /** Its own runtime (a backstop: the runner ends it with a signal). */
  runtimeMs: number;
  /** Successful completions so far, from its progress file. */
  completed(): Promise<number>;
}

export interface AdminRecord {
  atMs: number;
  vm: string;
  outcome: AdminOutcome;
}

export interface Judgement {
  verdict: Verdict;
  reason: string;
  metrics: Metrics;
}

export interface RunContext {
  readonly spec: ScenarioSpec;
  readonly opts: RunOptions;
  readonly driver: LabDriver;
  readonly runName: string;
  readonly runDir: string;
  readonly startedAt: Date;
  /** The run's time zero (harness monotonic ns). */
  readonly t0: bigint;
  readonly log: Logger;
  /** A progress line, prefixed with the run's name. */
  readonly say: (m: string) => void;
  /** ms since t0. */
  readonly nowMs: () => number;
  /** Wall time of each phase that ran, in order. */
  readonly phasesMs: Record<string, number>;

  lab?: RunLab;
  /** Exactly which kernel the run booted (set by the boot phase). */
  kernelInfo?: KernelInfo;
  /** Set once the lab is powered off: nothing may use it after that. */
  labClosed: boolean;
  readonly clocks: Map<string, ClockMap>;
  /** Timeline sampler id per VM. */
  readonly samplers: Map<string, number>;
  /** VMs whose kernel has kmemleak, cleared before the scenario. */
  leakChecked: LabVm[];

  ctrl?: HostController;
  /** pair2: every connected path (ctrl is then the first reset path's controller, on the multipath head). */
  paths?: HostPath[];
  /** Each VM's RDMA resource counts before the reset (rdma-resources.ts). */
  rdmaBefore?: ResourceTotals;
  /** The same counts after the run (collect). */
  rdmaAfter?: ResourceTotals;
  /** A target-side reset's controller port ("addr:port"), seen listening before the reset (port-listeners.ts). */
  listenedBefore?: string;
  /** Whether and when it listened again after the reset (watch). */
  relisten?: RelistenRecord;
  /** pair2: the RDMA port counters saved when the paths FAILed a run the common verdict passed (rxe-counters.ts). */
  rxeCounters?: string;
  /** extra_controllers: the host's other controllers on the reset device. */
  extra?: ExtraController[];
  /** extra_in_flight_ms: the extra controllers' connects started before the reset. */
  extraInFlight?: ExtraInFlight[];
  /** What those connects came to (extra-settle), and controllers nobody asked for. */
  extraEnds?: ExtraEnd[];
  extraLeftover?: string[];
  race?: ConnectRace;
  /** during: reconnect: the removal made while the reconnect resolved the address. */
  removal?: RemovalRecord;
  /** A reset's trigger that had not returned when the controller was being deleted: the run ended there. */
  stuckReset?: StuckReset;
  readonly resets: ResetWindow[];
  readonly admin: AdminRecord[];
  loader?: LoaderRun;
  /** After the resets: whether the controller reached what the scenario expects. */
  reachedExpected: boolean;
  load?: LoadResult;
  /** When the load ended (run ms). */
  endMs?: number;

  events: TimelineEvent[];
  io: IoPoint[];
  gaps: GapMs[];
  splatLines: string[];
  judgement?: Judgement;
  /** VMs whose instrumentation is under way (instrument.ts startInstrumenting), from boot to the instrument phase. */
  instrumenting?: { readonly vms: readonly LabVm[]; readonly done: Promise<void> };
  /** How long the machine kept each VM off the CPU, sampled from instrument to collect. */
  starvation?: StarvationWatch;
  /** The longest such stretch of the run (collect). */
  starved?: StarvedStretch;
}

export function createContext(spec: ScenarioSpec, opts: RunOptions, driver: LabDriver): RunContext {
  const runName = `${spec.name}-${opts.kernel.replace(/[^a-zA-Z0-9]+/g, '_')}-${opts.iteration}`;
  const progress = opts.progress ?? (() => {});
  const t0 = process.hrtime.bigint();
  return {
    spec,
    opts,
    driver,
    runName,
    runDir: join(opts.resultsDir, 'runs', runName),
    startedAt: new Date(),
    t0,
    log: opts.log ?? silentLogger,
    say: (m) => progress(`${runName}: ${m}`),
    nowMs: () => Number(process.hrtime.bigint() - t0) / 1e6,
    phasesMs: {},
    labClosed: false,
    clocks: new Map(),
    samplers: new Map(),
    leakChecked: [],
    resets: [],
    admin: [],
    reachedExpected: true,
    events: [],
    io: [],
    gaps: [],
    splatLines: [],
  };
}

/** What an earlier phase must have left; its absence is a harness bug, named. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new HarnessError(`internal: ${what} is not set; a phase ran out of order`);
  return value;
}

/** Records the scenario's admin action with its time, and says what happened. */
export function recordAdmin(ctx: RunContext, vm: string, outcome: AdminOutcome): void {
  ctx.admin.push({ atMs: ctx.nowMs(), vm, outcome });
  ctx.say(`admin: ${outcome.what}: ${outcome.ok ? 'ok' : outcome.error}`);
}
