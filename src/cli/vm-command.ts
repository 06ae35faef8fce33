// reset-bench vm exec | shell | bench: the lab by hand.
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveKernel } from '../kernel/resolve.js';
import { UsageError } from '../util/errors.js';
import { bootLab, TOPOLOGIES, type TopologyKind } from '../vm/topology.js';
import { SHELL_SOCKET, detectAccel } from '../vm/qemu-args.js';
import { makeContext, defaultRunLogDir } from './context.js';
import { VM_COMMAND_MS } from '../util/timeouts.js';
import { snapshotsDir } from '../vm/snapshot-store.js';
import { guestRuntimeDir } from '../vm/guest-runtime.js';

export function parseTopology(v: string): TopologyKind {
  if (!(TOPOLOGIES as readonly string[]).includes(v)) {
    throw new UsageError(`unknown topology ${JSON.stringify(v)}; use ${TOPOLOGIES.join(' or ')}`, '--topology');
  }
  return v as TopologyKind;
}

export function parsePositiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`must be a positive whole number, got ${JSON.stringify(v)}`, flag);
    return n;
  };
}

interface VmOpts {
  kernel: string;
  topology: string;
  cacheDir?: string;
  logDir?: string;
  timeout: number;
  role: 'host' | 'target';
}

export function registerVmCommand(program: Command): void {
  const vm = program.command('vm').description('boot the lab and work in it by hand');
  const common = (c: Command): Command =>
    c
      .option('--kernel <kernel>', 'stock, patched, debug or a directory with bzImage and lib/modules', 'stock')
      .option('--topology <kind>', 'loopback or pair', 'loopback')
      .option('--role <role>', 'in a pair: run in the host or the target VM', 'host')
      .option('--cache-dir <dir>', 'kernel cache (default $RESET_BENCH_CACHE or ~/.cache/reset-bench)')
      .option('--log-dir <dir>', 'where console logs go')
      .option('--timeout <seconds>', 'deadline for the command', parsePositiveInt('--timeout'), VM_COMMAND_MS / 1000);

  common(vm.command('exec'))
    .description('boot, run CMD in the guest, print its output and exit with its exit code')
    .argument('<cmd...>', 'the command and its arguments (after --)')
    .action(async (cmd: string[], o: VmOpts) => {
      const topology = parseTopology(o.topology);
      const ctx = makeContext({ cacheDir: o.cacheDir });
      const kernel = await resolveKernel(o.kernel, { cache: ctx.cache, progress: ctx.progress });
      const logDir = o.logDir ?? defaultRunLogDir(ctx.project);
      ctx.progress(`booting ${topology} with ${kernel.name} (${kernel.kver})`);
      const lab = await bootLab({ kind: topology, kernel, project: ctx.project, logDir, log: ctx.log, snapshots: snapshotsDir(ctx.cache), runtimeDir: guestRuntimeDir(ctx.cache) });
      try {
        ctx.progress(`ready in ${lab.machines.map((m) => `${m.name} ${m.bootMs} ms`).join(', ')}`);
        const vmTarget = o.role === 'target' ? lab.target : lab.host;
        const r = await vmTarget.agent.exec(cmd, { deadlineMs: o.timeout * 1000 });
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        if (r.timedOut) process.stderr.write(`reset-bench: ${cmd.join(' ')} timed out after ${o.timeout} s\n`);
        process.exitCode = r.exitCode;
      } finally {
        await lab.shutdown();
      }
    });

  vm.command('bench')
    .description('boot-to-agent-ready times: one VM, and the pair booted in parallel (median of --runs)')
    .option('--kernel <kernel>', 'stock, patched, debug or a directory', 'stock')
    .option('--runs <n>', 'boots per topology', parsePositiveInt('--runs'), 5)
    .option('--cache-dir <dir>', 'kernel cache')
    .action(async (o: { kernel: string; runs: number; cacheDir?: string }) => {
      const ctx = makeContext({ cacheDir: o.cacheDir });
      const kernel = await resolveKernel(o.kernel, { cache: ctx.cache, progress: ctx.progress });
      const logDir = defaultRunLogDir(ctx.project);
      const goals: Record<TopologyKind, number> = { loopback: 4000, pair: 6000, pair2: 6000 };
      const medians: Record<string, number> = {};
      for (const kind of TOPOLOGIES) {
        const times: number[] = [];
        for (let i = 0; i < o.runs; i++) {
          const t0 = Date.now();
          const lab = await bootLab({ kind, kernel, project: ctx.project, logDir, log: ctx.log, snapshots: snapshotsDir(ctx.cache), runtimeDir: guestRuntimeDir(ctx.cache) });
          const ms = Date.now() - t0;
          const guest = lab.machines.map((m) => `${m.name} ${m.bootMs} ms, ${m.bootFrom} (guest uptime ${m.ready?.uptimeS.toFixed(2)} s)`).join('; ');
          await lab.shutdown();
          times.push(ms);
          ctx.progress(`${kind} #${i + 1}: ${ms} ms to agent-ready [${guest}]`);
        }
        times.sort((a, b) => a - b);
        medians[kind] = times[Math.floor(times.length / 2)]!;
        process.stdout.write(`${kind}: median ${medians[kind]} ms over ${o.runs} boots (min ${times[0]}, max ${times[times.length - 1]}); goal ${goals[kind]} ms, ratio ${(medians[kind] / goals[kind]).toFixed(2)}\n`);
      }
      process.stdout.write(`accel=${detectAccel()} loopback_ms=${medians.loopback} pair_ms=${medians.pair}\n`);
    });

  common(vm.command('shell'))
    .description('boot and open an interactive shell in the guest (exit the shell to power off)')
    .action(async (o: VmOpts) => {
      const topology = parseTopology(o.topology);
      const ctx = makeContext({ cacheDir: o.cacheDir });
      const kernel = await resolveKernel(o.kernel, { cache: ctx.cache, progress: ctx.progress });
      const lab = await bootLab({ kind: topology, kernel, project: ctx.project, logDir: o.logDir ?? defaultRunLogDir(ctx.project), log: ctx.log, snapshots: snapshotsDir(ctx.cache), runtimeDir: guestRuntimeDir(ctx.cache) });
      const m = o.role === 'target' ? lab.target : lab.host;
      try {
        const done = m.agent.call('shell', {}, 24 * 3600 * 1000);
        const sock = createConnection(join(m.opts.runDir, SHELL_SOCKET));
        const stdin = process.stdin;
        if (stdin.isTTY) stdin.setRawMode(true);
        stdin.pipe(sock);
        sock.pipe(process.stdout);
        await done;
        stdin.unpipe(sock);
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
        sock.destroy();
      } finally {
        await lab.shutdown();
      }
    });
}
