// Fixtures for the report tests (and scripts/report-screenshot.mjs via dist-free import).
import type { IoPoint, KernelInfo, Results, RunResult, TimelineEvent } from '../../src/scenario/types.js';

/** I/O every `step` ms from 0 to endMs; no completions inside [gapFrom, gapTo). */
export function ioSeries(endMs: number, gapFrom: number, gapTo: number, errorsIn: [number, number] = [0, 0], step = 250): IoPoint[] {
  const out: IoPoint[] = [];
  for (let t = 0; t <= endMs; t += step) {
    const inGap = t >= gapFrom && t < gapTo;
    const errors = t >= errorsIn[0] && t < errorsIn[1] && t % 1000 === 0 ? 4 : 0;
    out.push({ t_ms: t, completions: inGap ? 0 : 1150 + (Math.floor(t / 250) % 7) * 20, errors });
  }
  return out;
}

function ev(t_ms: number, vm: string, kind: string, key: string, value: string): TimelineEvent {
  return { t_ms, vm, kind, key, value };
}

export function passRun(over: Partial<RunResult> = {}): RunResult {
  return {
    scenario: 'host-rdma-link',
    kernel: 'patched',
    verdict: 'PASS',
    reason: 'controller nvme0 reconnected 1.60 s after the device came back; I/O resumed after 2.00 s',
    metrics: { outage_ms: 3000, recovery_ms: 2000, ctrl_live_ms: 1600, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 },
    topology: 'pair',
    side: 'host',
    reset: 'rdma-link',
    iteration: 1,
    started_at: '2025-01-15T10:00:00.000Z',
    duration_ms: 12500,
    markers: { device_gone_ms: 5000, device_back_ms: 6000, ctrl_live_ms: 7600 },
    io: ioSeries(12000, 5000, 8000),
    events: [
      ev(5000, 'host', 'reset', 'rdma-link', 'down'),
      ev(5020, 'host', 'ctrl', 'nvme0', 'resetting'),
      ev(5100, 'host', 'ctrl', 'nvme0', 'connecting'),
      ev(6000, 'host', 'reset', 'rdma-link', 'up'),
      ev(7600, 'host', 'ctrl', 'nvme0', 'live'),
      ev(5010, 'target', 'log', 'nvmet', 'port disconnected'),
    ],
    splat_lines: [],
    artifacts: { 'host console': 'host-rdma-link/patched/1/host-console.log', 'loader timeline': 'host-rdma-link/patched/1/timeline.jsonl' },
    clock: { method: 'agent-ping', error_bound_ms: 2 },
    ...over,
  };
}

export function failRun(over: Partial<RunResult> = {}): RunResult {
  return {
    scenario: 'host-rdma-link',
    kernel: 'stock',
    verdict: 'FAIL',
    reason: 'controller nvme0 deleted 0.08 s after the device went away; no I/O completed after the reset',
    metrics: { outage_ms: 7000, recovery_ms: null, ctrl_live_ms: null, io_errors: 16, verify_errors: 0, lost_writes: 0, splats: 1 },
    topology: 'pair',
    side: 'host',
    reset: 'rdma-link',
    iteration: 1,
    started_at: '2025-01-15T10:01:00.000Z',
    duration_ms: 12500,
    markers: { device_gone_ms: 5000, device_back_ms: 6000, ctrl_live_ms: null },
    io: ioSeries(12000, 5000, 1e9, [5000, 9000]),
    events: [
      ev(5000, 'host', 'reset', 'rdma-link', 'down'),
      ev(5080, 'host', 'ctrl', 'nvme0', 'deleting'),
      ev(6000, 'host', 'reset', 'rdma-link', 'up'),
    ],
    splat_lines: ['[   12.3] WARNING: CPU: 0 PID: 42 at drivers/nvme/host/rdma.c:1234 nvme_rdma_free_queue+0x12/0x40'],
    artifacts: { 'host console': 'host-rdma-link/stock/1/host-console.log' },
    clock: { method: 'agent-ping', error_bound_ms: 2 },
    ...over,
  };
}

/** What the kernel tooling records about a kernel (the 6.1 series on Debian's 6.1 kernel). */
export function kernelInfo(variant: string, over: Partial<KernelInfo> = {}): KernelInfo {
  return {
    series: '6.1',
    package_version: '6.1.158-1',
    abi: '6.1.0-41-amd64',
    variant,
    patchset_hash: variant === 'stock' ? '' : '3f1c0de2b6a9e4d7c8b5a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0',
    ...over,
  };
}

export function results(runs: RunResult[] = [failRun(), passRun()]): Results {
  return { version: 2, generated_at: '2025-01-15T10:02:00.000Z', tool: { name: 'reset-bench', version: '0.1.0' }, runs };
}
