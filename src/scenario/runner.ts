// Runs one scenario on one kernel: boot, build target and host, start the verified
// load, inject the reset(s), wait for recovery or the deadline with no admin action,
// collect everything, decide. Harness failures become ERROR, never FAIL.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { resolveKernel, type KernelSpec } from '../kernel/resolve.js';
import { alignClock, toRunMs, type ClockMap } from '../orchestrate/clock.js';
import { connectHost, prepareHost, setupTarget, NETDEV, RXE, type HostController } from '../orchestrate/nvme-lab.js';
import { INJECTORS, type RdmaSite } from '../reset/index.js';
import { sleep } from '../util/deadline.js';
import { errorMessage, HarnessError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { Machine } from '../vm/machine.js';
import { nicDevice } from '../vm/qemu-args.js';
import { bootLab, LAB_NET, type Lab } from '../vm/topology.js';
import type { TimelineSample } from '../guest/ops-timeline.js';
import { parseProgressLine } from '../load/progress-file.js';
import type { LoadResult } from '../load/run.js';
import { afterRestore, performAdmin, type AdminOutcome } from './admin-actions.js';
import { raceConnect, type ConnectRace } from './connect-race.js';
import { clearKmemleak, hasKmemleak, scanKmemleak } from './kmemleak.js';
import { computeMetrics, countIoErrors, type GapMs, type ResetWindow } from './metrics.js';
import type { ScenarioSpec } from './spec.js';
import type { IoPoint, Metrics, RunResult, TimelineEvent } from './types.js';
import { decide } from './verdict.js';

export interface RunOptions {
  kernel: string;
  resultsDir: string;
  iteration: number;
  project: string;
  cache?: string;
  log?: Logger;
  progress?: (m: string) => void;
}

const EMPTY_METRICS: Metrics = {
  outage_ms: null,
  recovery_ms: null,
  ctrl_live_ms: null,
  io_errors: 0,
  verify_errors: 0,
  lost_writes: 0,
  splats: 0,
};

function site(vm: Machine, lab: Lab): RdmaSite {
  const nic = vm.opts.nics[0]!;
  return {
    vm,
    netdev: NETDEV,
    rxe: RXE,
    cidr: `${vm === lab.host && lab.kind === 'pair' ? lab.hostAddr : lab.targetAddr}/${LAB_NET.prefix}`,
    nicId: nic.id,
    nicDevice: nicDevice(nic),
  };
}

/** The VMs whose device the scenario resets. On loopback, one VM is both. */
export function resetSites(lab: Lab, side: ScenarioSpec['side']): RdmaSite[] {
  if (lab.kind === 'loopback') return [site(lab.host, lab)];
  if (side === 'host') return [site(lab.host, lab)];
  if (side === 'target') return [site(lab.target, lab)];
  return [site(lab.target, lab), site(lab.host, lab)];
}

/** Where the loader saves its record of acknowledged writes (for a later `load --verify-only`). */
const STATE_FILE = '/tmp/reset-bench-load.state';
const PROGRESS_FILE = '/tmp/reset-bench-load.progress';

function loaderArgv(project: string, spec: ScenarioSpec, dev: string, runtimeMs: number): string[] {
  const l = spec.load;
  const argv = [
    'node', join(project, 'dist', 'cli', 'main.js'), 'load',
    '--filename', dev, '--rw', l.rw, '--bs', l.bs, '--iodepth', String(l.iodepth), '--size', l.size,
    '--runtime', `${runtimeMs}ms`, '--verify', '1', '--interval', '10', '--gap-threshold', '50',
    '--retry-backoff', '100', '--drain-timeout', '20000', '--save-state', STATE_FILE,
    '--progress-file', PROGRESS_FILE, '--json',
  ];
  if (l.rate_iops) argv.push('--rate-iops', String(l.rate_iops));
  return argv;
}

/**
 * Reads how many I/Os the loader has completed successfully so far, from its progress
 * file. Block-layer counters will not do: a request failed over to the multipath head
 * counts as completed on its path device.
 */
function ioCounter(vm: Machine): () => Promise<number> {
  return async () => parseProgressLine(await vm.agent.fs().readFile(PROGRESS_FILE)).completed;
}

/**
 * Waits until the count passes `since`; false at the deadline or when `stopped()`. A
 * count that cannot be read (no progress file yet) is no progress.
 */
async function ioAfter(count: () => Promise<number>, since: number, stopped: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if ((await count().catch(() => since)) > since) return true;
    if (stopped() || Date.now() > end) return false;
    await sleep(50);
  }
}

/** The whole kernel log of each VM, with guest time and (when aligned) run time. */
async function saveKmsg(lab: Lab, runDir: string, clocks: Map<string, ClockMap>, t0: bigint): Promise<void> {
  for (const m of lab.machines) {
    const map = clocks.get(m.name);
    const lines = m.kmsg.map((k) => {
      const run = map ? ` run=${toRunMs(map, BigInt(k.usec) * 1000n, t0).toFixed(0)}ms` : '';
      return `[${(k.usec / 1e6).toFixed(6)}]${run} <${k.level}> ${k.text}`;
    });
    await writeFile(join(runDir, `${m.name}.kmsg.log`), `${lines.join('\n')}\n`);
  }
}

export async function runScenario(spec: ScenarioSpec, o: RunOptions): Promise<RunResult> {
  const log = o.log ?? silentLogger;
  const say = o.progress ?? (() => {});
  const runName = `${spec.name}-${o.kernel.replace(/[^a-zA-Z0-9]+/g, '_')}-${o.iteration}`;
  const runDir = join(o.resultsDir, 'runs', runName);
  await mkdir(runDir, { recursive: true });
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const base = {
    scenario: spec.name,
    kernel: o.kernel,
    topology: spec.topology,
    side: spec.side,
    reset: spec.reset,
    iteration: o.iteration,
    started_at: started.toISOString(),
  };
  const rel = (p: string): string => relative(o.resultsDir, p);
  let lab: Lab | undefined;
  let clocksForErrors: Map<string, ClockMap> | undefined;
  try {
    const kernel: KernelSpec = await resolveKernel(o.kernel, { cache: o.cache, progress: say });
    say(`${runName}: booting ${spec.topology} on ${kernel.name}`);
    lab = await bootLab({ kind: spec.topology, kernel, project: o.project, logDir: runDir, log });
    say(`${runName}: booted (${lab.machines.map((m) => `${m.name} ${m.bootMs} ms`).join(', ')}); building the target`);
    // The two VMs are two vCPUs: build the target while the host loads its side.
    const l = lab;
    await Promise.all([setupTarget(l), l.host !== l.target ? prepareHost(l) : undefined]);
    const leakChecked: Machine[] = [];
    for (const m of lab.machines) {
      if (await hasKmemleak(m)) {
        await clearKmemleak(m);
        leakChecked.push(m);
      }
    }
    const clocks = new Map<string, ClockMap>();
    clocksForErrors = clocks;
    const samplers = new Map<string, number>();
    await Promise.all(
      l.machines.map(async (m) => {
        clocks.set(m.name, await alignClock(m));
        samplers.set(m.name, (await m.agent.call<{ id: number }>('timeline.start', { intervalMs: 20 })).id);
      }),
    );
    const nowMs = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
    const injector = INJECTORS[spec.reset];
    const sites = resetSites(lab, spec.side);
    const resets: ResetWindow[] = [];
    const adminDone: { atMs: number; vm: string; outcome: AdminOutcome }[] = [];
    const recordAdmin = (vm: string, outcome: AdminOutcome): void => {
      adminDone.push({ atMs: nowMs(), vm, outcome });
      say(`${runName}: admin: ${outcome.what}: ${outcome.ok ? 'ok' : outcome.error}`);
    };

    let race: ConnectRace | undefined;
    let ctrl: HostController | undefined;
    if (spec.during === 'connect') {
      const r = await raceConnect(lab, spec, sites, injector, nowMs, (m) => say(`${runName}: ${m}`));
      race = r.race;
      ctrl = r.ctrl;
      resets.push(r.window);
      say(`${runName}: connect ${race.first.ok ? 'accepted' : `refused (${race.first.error})`}${race.retry ? `, new connect ${race.retry.ok ? 'worked' : 'failed'}` : ''}`);
    } else {
      ctrl = await connectHost(lab, spec.connect);
    }
    if (ctrl) say(`${runName}: ${ctrl.device} live on ${ctrl.namespace}`);

    // The load: on the live controller, with the resets during it (or, when the reset
    // raced the connect, on whatever controller came out of that).
    const loadOut = ctrl ? await runLoadPhase() : undefined;
    const endMs = nowMs();
    const load = loadOut?.load;

    async function runLoadPhase(): Promise<{ load: LoadResult }> {
      const c = ctrl!;
      const labNow = lab!;
      const during = spec.during === 'io';
      const perReset = spec.down_ms + 3000;
      // The runner ends the loader with a signal; its own runtime is only a backstop, and
      // a slow (debug) kernel stretches every step, so leave it plenty.
      const planned = spec.pre_ms + (during ? spec.resets * perReset + spec.recovery_deadline_ms : 0) + spec.post_ms;
      const runtimeMs = planned * 4 + 60_000;
      const loader = labNow.host.agent.exec(loaderArgv(o.project, spec, c.namespace, runtimeMs), {
        deadlineMs: runtimeMs + 180_000,
      });
      let loaderDone = false;
      void loader.finally(() => (loaderDone = true)).catch(() => undefined);
      const ioCount = ioCounter(labNow.host);
      if (!(await ioAfter(ioCount, 0, () => loaderDone, 90_000)) && !loaderDone) {
        throw new HarnessError(`no I/O on ${c.namespace} within 90000 ms of starting the loader`);
      }
      await sleep(spec.pre_ms);
      if (loaderDone) {
        const r = await loader;
        await writeFile(join(runDir, 'loader.json'), r.stdout);
        throw new HarnessError(`the loader stopped before the reset (exit ${r.exitCode}): ${r.stderr.trim().slice(-1000)}`);
      }

      let waited = true;
      const want = spec.expect.controller === 'deleted' ? 'absent' : 'equals';
      if (during) {
        // From here on, only the injector's device-level steps (and the scenario's own
        // admin action, recorded) may act.
        for (const m of labNow.machines) m.agent.guard.arm();
        for (let i = 0; i < spec.resets; i++) {
          const goneMs = nowMs();
          say(`${runName}: reset ${i + 1}/${spec.resets}: ${injector.describe} (${sites.map((x) => x.vm.name).join(', ')})`);
          await Promise.all(sites.map((x) => injector.trigger(x)));
          if (spec.admin && i === 0) {
            await sleep(spec.admin.after_ms);
            const vm = spec.admin.action === 'remove-target-port' ? labNow.target.name : labNow.host.name;
            recordAdmin(vm, await performAdmin(labNow, spec.admin.action, c.device));
            await sleep(spec.down_ms - spec.admin.after_ms);
          } else {
            await sleep(spec.down_ms);
          }
          await Promise.all(sites.map((x) => injector.restore(x)));
          const backMs = nowMs();
          resets.push({ goneMs, backMs });
          if (spec.admin && i === 0) {
            const outcome = await afterRestore(labNow, spec.admin.action);
            if (outcome) recordAdmin(labNow.target.name, outcome);
          }
          if (i + 1 < spec.resets) {
            // Let the controller come back (or not) before the next reset.
            await labNow.host.agent.waitFor(`/sys/class/nvme/${c.device}/state`, 'equals', 'live', 3000).catch(() => undefined);
          }
        }

        // Wait for recovery with no admin action: live again, or gone for good, or the deadline.
        const ioAtBack = await ioCount().catch(() => 0);
        const backAt = Date.now();
        waited = await labNow.host.agent
          .waitFor(`/sys/class/nvme/${c.device}/state`, want, want === 'equals' ? 'live' : undefined, spec.recovery_deadline_ms, 20)
          .then(() => true, () => false);
        // "live" alone proves nothing after a target-side reset: the host may not have
        // noticed the outage yet. Recovered means I/O completes again.
        let stalled = false;
        if (waited && want === 'equals') {
          const left = Math.max(1000, spec.recovery_deadline_ms - (Date.now() - backAt));
          stalled = !(await ioAfter(ioCount, ioAtBack, () => loaderDone, left));
          waited = !stalled;
        }
        const state = waited ? (want === 'absent' ? 'deleted' : 'live, I/O completing') : stalled ? 'live but no I/O completed' : 'not recovered';
        say(`${runName}: controller ${state}; finishing the load`);
      }
      const gone = !(await labNow.host.agent.fs().exists(`/sys/class/nvme/${c.device}`));
      // Recovered: let I/O run a little longer to show it resumed, then end the I/O with
      // SIGUSR2: the loader reads back every acknowledged write in the same process (no
      // second node start in the guest). Not recovered: SIGINT stops it, no final pass.
      const recovered = waited && !gone && want === 'equals';
      if (recovered) await sleep(spec.post_ms);
      if (loaderDone && recovered) {
        throw new HarnessError(`the loader's ${Math.round(runtimeMs / 1000)} s runtime ran out before the scenario ended: this kernel is slower than the budget assumes`);
      }
      if (recovered) say(`${runName}: verifying every acknowledged write`);
      await labNow.host.agent.exec(['pkill', recovered ? '-USR2' : '-INT', '-f', 'main.js load']);
      const lr = await loader;
      if (lr.timedOut) throw new HarnessError(`the loader in ${labNow.host.name} did not finish in time`);
      let parsed: LoadResult;
      try {
        parsed = JSON.parse(lr.stdout) as LoadResult;
      } catch {
        throw new HarnessError(`the loader printed no JSON (exit ${lr.exitCode}): ${lr.stderr.slice(-2000)}`);
      }
      await writeFile(join(runDir, 'loader.json'), lr.stdout);
      if (recovered && !parsed.verify.finalPass.ran) {
        throw new HarnessError(`the loader in ${labNow.host.name} ended without its final verify pass (exit ${lr.exitCode})`);
      }
      return { load: parsed };
    }

    const events: TimelineEvent[] = [];
    for (const m of lab.machines) {
      const samples = await m.agent.call<TimelineSample[]>('timeline.stop', { id: samplers.get(m.name)! });
      const map = clocks.get(m.name)!;
      for (const s of samples) events.push({ t_ms: toRunMs(map, s.t, t0), vm: m.name, kind: s.kind, key: s.key, value: s.value });
    }
    for (const r of resets) {
      events.push({ t_ms: r.goneMs, vm: 'harness', kind: 'reset', key: spec.reset, value: 'device gone' });
      events.push({ t_ms: r.backMs, vm: 'harness', kind: 'reset', key: spec.reset, value: 'device back' });
    }
    for (const m of lab.machines) {
      for (const g of m.agent.guard.refused) {
        events.push({ t_ms: nowMs() - (Date.now() - g.at), vm: m.name, kind: 'guard', key: g.op, value: `refused: ${g.what}` });
      }
    }
    for (const a of adminDone) {
      events.push({ t_ms: a.atMs, vm: a.vm, kind: 'admin', key: a.outcome.action, value: `${a.outcome.what}: ${a.outcome.ok ? 'ok' : a.outcome.error}` });
    }
    if (race) {
      const r = race;
      events.push({ t_ms: r.injectAfterMs >= 0 ? resets[0]!.goneMs - r.injectAfterMs : 0, vm: lab.host.name, kind: 'admin', key: 'connect', value: 'connect write started' });
      events.push({ t_ms: resets[0]!.goneMs - r.injectAfterMs + r.connectMs, vm: lab.host.name, kind: 'admin', key: 'connect', value: r.first.ok ? `connect accepted: ${r.first.device}` : `connect refused: ${r.first.error}` });
    }
    events.sort((a, b) => a.t_ms - b.t_ms);
    await writeFile(join(runDir, 'timeline.json'), JSON.stringify(events, null, 1));

    const hostMap = clocks.get(lab.host.name)!;
    const ctrlName = ctrl?.device ?? (race?.first.ok ? race.first.device : 'nvme0');
    const tl = load?.timeline;
    const io: IoPoint[] = tl
      ? Array.from({ length: tl.reads.length }, (_, i) => ({
          t_ms: toRunMs(hostMap, BigInt(Math.round(tl.startNs)) + BigInt(tl.intervalNs) * BigInt(i), t0),
          completions: (tl.reads[i] ?? 0) + (tl.writes[i] ?? 0),
          errors: tl.errors[i] ?? 0,
        }))
      : [];
    const gaps: GapMs[] = (load?.gaps ?? []).map((g) => ({
      startMs: toRunMs(hostMap, BigInt(Math.round(g.startNs)), t0),
      endMs: toRunMs(hostMap, BigInt(Math.round(g.endNs)), t0),
      open: g.open,
    }));
    const splatLines = lab.machines.flatMap((m) => m.splats.map((sp) => `${m.name}: ${sp.line.trim()}`));
    if (leakChecked.length) say(`${runName}: kmemleak scan in ${leakChecked.map((m) => m.name).join(', ')}`);
    const leaks = await Promise.all(leakChecked.map(async (m) => (await scanKmemleak(m)).map((leak) => `${m.name}: ${leak}`)));
    splatLines.push(...leaks.flat());
    const counted = countIoErrors(load?.ioErrors ?? 0, load?.errors ?? []);
    const metrics = computeMetrics({
      io,
      gaps,
      resets,
      events: events.filter((e) => e.vm === lab!.host.name),
      controller: ctrlName,
      endMs,
      ioErrors: counted.errors,
      verifyErrors: load?.verify.errors ?? 0,
      lostWrites: load?.verify.lostWrites ?? 0,
      splats: splatLines.length,
    });
    const e0 = load?.errors.find((e) => e.code !== 'EAGAIN');
    const { verdict, reason } = decide({
      spec,
      metrics,
      resets,
      events: events.filter((e) => e.vm === lab!.host.name),
      controller: ctrlName,
      endMs,
      race,
      admin: adminDone.map((a) => a.outcome),
      eagainRetried: counted.eagain,
      firstSplat: splatLines[0],
      firstIoError: e0 ? `${e0.code} on ${e0.op} at ${toRunMs(hostMap, BigInt(Math.round(e0.timeNs)), t0).toFixed(0)} ms` : undefined,
    });
    const lastBack = resets.length ? resets[resets.length - 1]!.backMs : null;
    await saveKmsg(lab, runDir, clocks, t0);
    await lab.shutdown();
    const consoles = Object.fromEntries(lab.machines.map((m) => [`console_${m.name}`, rel(m.console.logPath)]));
    const machines = lab.machines;
    lab = undefined;
    return {
      ...base,
      verdict,
      reason,
      metrics,
      duration_ms: Math.round(endMs),
      markers: {
        device_gone_ms: resets.length ? Math.round(resets[0]!.goneMs) : null,
        device_back_ms: lastBack === null ? null : Math.round(lastBack),
        ctrl_live_ms: lastBack !== null && metrics.ctrl_live_ms !== null ? Math.round(lastBack + metrics.ctrl_live_ms) : null,
      },
      io,
      events,
      splat_lines: splatLines,
      artifacts: {
        ...consoles,
        ...Object.fromEntries(machines.map((m) => [`kmsg_${m.name}`, rel(join(runDir, `${m.name}.kmsg.log`))])),
        ...(load ? { loader: rel(join(runDir, 'loader.json')) } : {}),
        timeline: rel(join(runDir, 'timeline.json')),
      },
      clock: { method: 'agent round trip (Cristian), best of 7', error_bound_ms: Math.max(...[...clocks.values()].map((c) => c.errorMs)) },
    };
  } catch (err) {
    const consoles: Record<string, string> = {};
    const tails: string[] = [];
    for (const m of lab?.machines ?? []) {
      consoles[`console_${m.name}`] = rel(m.console.logPath);
      tails.push(`--- ${m.name} ---\n${m.console.tailText(30)}`);
    }
    if (lab) await saveKmsg(lab, runDir, clocksForErrors ?? new Map(), t0).catch(() => undefined);
    await lab?.kill();
    log.error({ err: errorMessage(err), scenario: spec.name, kernel: o.kernel }, 'run failed');
    await writeFile(join(runDir, 'error.txt'), `${errorMessage(err)}\n${tails.join('\n')}\n`);
    return {
      ...base,
      verdict: 'ERROR',
      reason: errorMessage(err).split('\n')[0]!,
      metrics: EMPTY_METRICS,
      duration_ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e6),
      markers: { device_gone_ms: null, device_back_ms: null, ctrl_live_ms: null },
      io: [],
      events: [],
      splat_lines: [],
      artifacts: { ...consoles, error: rel(join(runDir, 'error.txt')) },
      clock: { method: 'none', error_bound_ms: 0 },
    };
  }
}
