// KCIDB-shaped JSON (kcidb-io schema v4.0) so KernelCI can take the results:
// one checkout and one build per kernel, one test per run.
// Schema notes: ids are "<origin>:<anything>", origin matches [a-z0-9_]+, test path
// matches [.a-zA-Z0-9_-]*, status is FAIL|ERROR|PASS|DONE|SKIP, duration is seconds,
// no property may be null and objects allow no extra properties (free data goes in misc).
import type { Results, RunResult } from '../scenario/types.js';
import { METRIC_NAMES, orderKernels } from './stats.js';

export const KCIDB_ORIGIN = 'reset_bench';

export interface KcidbCheckout {
  id: string;
  origin: string;
  tree_name?: string;
  comment?: string;
  start_time?: string;
  valid?: boolean;
  misc?: Record<string, unknown>;
}
export interface KcidbBuild {
  checkout_id: string;
  id: string;
  origin: string;
  comment?: string;
  start_time?: string;
  architecture?: string;
  config_name?: string;
  valid?: boolean;
  misc?: Record<string, unknown>;
}
export interface KcidbTest {
  build_id: string;
  id: string;
  origin: string;
  path: string;
  status: 'FAIL' | 'ERROR' | 'PASS' | 'DONE' | 'SKIP';
  comment?: string;
  log_excerpt?: string;
  start_time?: string;
  duration?: number;
  environment?: { comment?: string; misc?: Record<string, unknown> };
  misc?: Record<string, unknown>;
}
export interface KcidbReport {
  version: { major: 4; minor: number };
  checkouts: KcidbCheckout[];
  builds: KcidbBuild[];
  tests: KcidbTest[];
}

/** Characters allowed in a test path component. */
export function pathPart(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]+/g, '_') || '_';
}

/** An id part without ':' (ids are "<origin>:<rest>"; keep the rest readable). */
function idPart(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.+-]+/g, '_');
}

/** A per-invocation id from generated_at: 2024-05-01T12:00:00.000Z -> 20240501T120000000Z */
function stamp(iso: string): string {
  return iso.replace(/[^0-9TZ]/g, '');
}

/** Non-null metrics as numbers, null ones listed under "never". */
function metricsMisc(r: RunResult): Record<string, unknown> {
  const metrics: Record<string, number> = {};
  const never: string[] = [];
  for (const m of METRIC_NAMES) {
    const v = r.metrics[m];
    if (v === null) never.push(m);
    else metrics[m] = v;
  }
  const markers: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.markers)) if (v !== null) markers[k] = v;
  return {
    metrics,
    never,
    kernel: r.kernel,
    scenario: r.scenario,
    iteration: r.iteration,
    topology: r.topology,
    side: r.side,
    reset: r.reset,
    markers,
    clock: r.clock,
    splats: r.splat_lines.length,
    artifacts: r.artifacts,
  };
}

export function toKcidb(results: Results, opts: { origin?: string } = {}): KcidbReport {
  const origin = opts.origin ?? KCIDB_ORIGIN;
  const when = stamp(results.generated_at);
  const kernels = orderKernels(results.runs.map((r) => r.kernel));
  const checkoutId = (k: string) => `${origin}:${when}:${idPart(k)}`;
  const buildId = (k: string) => `${origin}:${when}:${idPart(k)}:build`;
  const checkouts: KcidbCheckout[] = kernels.map((k) => ({
    id: checkoutId(k),
    origin,
    comment: `reset-bench kernel ${k}`,
    start_time: results.generated_at,
    valid: true,
    misc: { kernel: k },
  }));
  const builds: KcidbBuild[] = kernels.map((k) => ({
    checkout_id: checkoutId(k),
    id: buildId(k),
    origin,
    comment: `reset-bench kernel ${k}`,
    start_time: results.generated_at,
    architecture: 'x86_64',
    config_name: k,
    valid: true,
    misc: { kernel: k, tool: `${results.tool.name} ${results.tool.version}` },
  }));
  const tests: KcidbTest[] = results.runs.map((r) => {
    const t: KcidbTest = {
      build_id: buildId(r.kernel),
      id: `${origin}:${when}:${idPart(r.kernel)}:${idPart(r.scenario)}:${r.iteration}`,
      origin,
      path: `nvme_rdma.reset.${pathPart(r.scenario)}`,
      status: r.verdict,
      comment: r.reason,
      start_time: r.started_at,
      duration: r.duration_ms / 1000,
      environment: { comment: `QEMU ${r.topology} topology`, misc: { topology: r.topology, clock: r.clock.method } },
      misc: metricsMisc(r),
    };
    if (r.splat_lines.length > 0) t.log_excerpt = r.splat_lines.join('\n').slice(0, 16384);
    return t;
  });
  return { version: { major: 4, minor: 0 }, checkouts, builds, tests };
}

export function kcidbToJson(results: Results): string {
  return `${JSON.stringify(toKcidb(results), null, 2)}\n`;
}
