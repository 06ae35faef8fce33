// The run's record in the CONTRACT shape (types.ts): from the context the phases filled,
// or, when the harness failed, an ERROR with the consoles' last lines in error.txt.
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { need, type RunContext } from './context.js';
import { kmsgPath, saveKmsg } from './kmsg.js';
import type { Metrics, RunResult } from './types.js';
import type { LabVm } from './lab.js';
import type { BootFrom } from '../vm/machine.js';

const EMPTY_METRICS: Metrics = {
  outage_ms: null,
  recovery_ms: null,
  ctrl_live_ms: null,
  io_errors: 0,
  verify_errors: 0,
  lost_writes: 0,
  splats: 0,
};

function base(ctx: RunContext): Pick<RunResult, 'scenario' | 'kernel' | 'kernel_info' | 'topology' | 'side' | 'reset' | 'iteration' | 'started_at'> {
  const { spec, opts } = ctx;
  return {
    scenario: spec.name,
    kernel: opts.kernel,
    kernel_info: ctx.kernelInfo,
    topology: spec.topology,
    side: spec.side,
    reset: spec.reset,
    iteration: opts.iteration,
    started_at: ctx.startedAt.toISOString(),
  };
}

const vmBoot = (vms: readonly LabVm[]): Record<string, BootFrom> => Object.fromEntries(vms.map((m) => [m.name, m.bootFrom]));

const rel = (ctx: RunContext, p: string): string => relative(ctx.opts.resultsDir, p);

/** The record of a run whose phases all ran. */
export function runResult(ctx: RunContext): RunResult {
  const lab = need(ctx.lab, 'the lab');
  const { verdict, reason, metrics } = need(ctx.judgement, 'the verdict');
  const endMs = need(ctx.endMs, 'the end of the load');
  const lastBack = ctx.resets.length ? ctx.resets[ctx.resets.length - 1]!.backMs : null;
  return {
    ...base(ctx),
    verdict,
    reason,
    metrics,
    duration_ms: Math.round(endMs),
    markers: {
      device_gone_ms: ctx.resets.length ? Math.round(ctx.resets[0]!.goneMs) : null,
      device_back_ms: lastBack === null ? null : Math.round(lastBack),
      ctrl_live_ms: lastBack !== null && metrics.ctrl_live_ms !== null ? Math.round(lastBack + metrics.ctrl_live_ms) : null,
    },
    io: ctx.io,
    events: ctx.events,
    splat_lines: ctx.splatLines,
    artifacts: {
      ...Object.fromEntries(lab.machines.map((m) => [`console_${m.name}`, rel(ctx, m.console.logPath)])),
      ...Object.fromEntries(lab.machines.map((m) => [`kmsg_${m.name}`, rel(ctx, kmsgPath(ctx.runDir, m.name))])),
      ...(ctx.load ? { loader: rel(ctx, join(ctx.runDir, 'loader.json')) } : {}),
      timeline: rel(ctx, join(ctx.runDir, 'timeline.json')),
      ...(ctx.rdmaAfter ? { rdma_resources: rel(ctx, join(ctx.runDir, 'rdma-resources.json')) } : {}),
      ...(ctx.stuckReset || ctx.removal?.stuck ? { blocked_tasks: rel(ctx, join(ctx.runDir, 'blocked-tasks.txt')) } : {}),
      ...(ctx.rxeCounters ? { rxe_counters: rel(ctx, join(ctx.runDir, ctx.rxeCounters)) } : {}),
    },
    clock: { method: 'agent round trip (Cristian), best of 7', error_bound_ms: Math.max(...[...ctx.clocks.values()].map((c) => c.errorMs)) },
    phases_ms: { ...ctx.phasesMs },
    vm_boot: vmBoot(lab.machines),
    ...(ctx.rdmaBefore && ctx.rdmaAfter ? { rdma_resources: { before: ctx.rdmaBefore, after: ctx.rdmaAfter } } : {}),
  };
}

/**
 * The harness failed: save what can be saved (kernel logs, the consoles' last lines),
 * kill the VMs, and record an ERROR, never a FAIL.
 */
export async function errorResult(ctx: RunContext, err: unknown): Promise<RunResult> {
  const lab = ctx.labClosed ? undefined : ctx.lab;
  const machines = ctx.lab?.machines ?? [];
  const consoles = Object.fromEntries(machines.map((m) => [`console_${m.name}`, rel(ctx, m.console.logPath)]));
  const tails = machines.map((m) => `--- ${m.name} ---\n${m.console.tailText(30)}`);
  if (lab) {
    await saveKmsg(lab.machines, ctx.runDir, ctx.clocks, ctx.t0).catch(() => undefined);
    await lab.kill();
  }
  ctx.log.error({ err: errorMessage(err), scenario: ctx.spec.name, kernel: ctx.opts.kernel }, 'run failed');
  await writeFile(join(ctx.runDir, 'error.txt'), `${errorMessage(err)}\n${tails.join('\n')}\n`);
  return {
    ...base(ctx),
    verdict: 'ERROR',
    reason: errorMessage(err).split('\n')[0]!,
    metrics: EMPTY_METRICS,
    duration_ms: Math.round(ctx.nowMs()),
    markers: { device_gone_ms: null, device_back_ms: null, ctrl_live_ms: null },
    io: [],
    events: [],
    splat_lines: [],
    artifacts: { ...consoles, error: rel(ctx, join(ctx.runDir, 'error.txt')) },
    clock: { method: 'none', error_bound_ms: 0 },
    phases_ms: { ...ctx.phasesMs },
    ...(lab ? { vm_boot: vmBoot(lab.machines) } : {}),
  };
}
