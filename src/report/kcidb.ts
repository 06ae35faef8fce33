// KCIDB JSON (kcidb-io schema v4.0, test/schemas/kcidb-v04_00.json) so KernelCI can take
// the results: one checkout per kernel source (Debian package + patch series), one build
// per kernel configuration, one test per run.
// Schema notes: ids are "<origin>:<anything>", origin matches [a-z0-9_]+, test path
// matches [.a-zA-Z0-9_-]*, status is FAIL|ERROR|PASS|DONE|SKIP, duration is seconds,
// no property may be null and objects allow no extra properties (free data goes in misc).
// Ids never hold the time the file was written: shards of one nightly that tested the
// same kernel name the same checkout and build, and `reset-bench report` rewrites the
// same ids. A test id holds its run's start time, so two nightlies do not collide.
import type { KernelInfo, Results, RunResult } from '../scenario/types.js';
import { UsageError } from '../util/errors.js';
import { METRIC_NAMES, orderKernels } from './stats.js';

export const KCIDB_ORIGIN = 'reset_bench';
export const KCIDB_ORIGIN_PATTERN = /^[a-z0-9_]+$/;
/** Where Debian's kernel packages are made: its tags are debian/<package version>. */
export const DEBIAN_KERNEL_GIT = 'https://salsa.debian.org/kernel-team/linux.git';

export interface KcidbCheckout {
  id: string;
  origin: string;
  tree_name?: string;
  git_repository_url?: string;
  git_commit_name?: string;
  patchset_hash?: string;
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

/** The origin as given, or a UsageError naming --kcidb-origin and what it may hold. */
export function checkOrigin(origin: string): string {
  if (!KCIDB_ORIGIN_PATTERN.test(origin)) {
    throw new UsageError(`${JSON.stringify(origin)} is not a KCIDB origin: use lowercase letters, digits and _ only (e.g. my_lab)`, '--kcidb-origin');
  }
  return origin;
}

/** Characters allowed in a test path component. */
export function pathPart(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]+/g, '_') || '_';
}

/** An id part without ':' (ids are "<origin>:<rest>"; keep the rest readable). */
function idPart(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.+-]+/g, '_');
}

/** A run's start as an id part: 2024-05-01T12:00:00.000Z -> 20240501T120000000Z */
function stamp(iso: string): string {
  return iso.replace(/[^0-9TZ]/g, '');
}

/** Debian's kernels (stock, patched, debug) come from Debian's kernel tree; an own one does not say. */
const isDebian = (info: KernelInfo): boolean => info.variant !== 'own';

/** What a Debian kernel carries on top: the series, only the lab patches, or nothing. */
function patchesNote(info: KernelInfo): string {
  if (!info.patchset_hash) return '';
  const onlyLab = info.variant === 'stock' && (info.lab_patches?.length ?? 0) > 0;
  return onlyLab ? ` + reset-bench lab patches ${info.series} (rdma_rxe)` : ` + reset-bench series ${info.series}`;
}

/** The kernel flavour of an ABI: 6.1.0-41-amd64 -> amd64. */
function flavour(abi: string): string {
  return /-([a-z0-9]+)$/.exec(abi)?.[1] ?? abi;
}

interface KernelIds {
  checkout: string;
  build: string;
  info?: KernelInfo;
}

/** Ids from what the kernel is (package, ABI, patch series, config), never from when. */
function kernelIds(origin: string, label: string, info: KernelInfo | undefined): KernelIds {
  if (!info) {
    const checkout = `${origin}:kernel:${idPart(label)}`;
    return { checkout, build: `${checkout}:build` };
  }
  // An own kernel is known by where it was built from and its release; Debian's by the
  // package, its release and the patches applied.
  const source = isDebian(info) ? idPart(info.package_version) : `own:${idPart(label)}`;
  const checkout = `${origin}:${source}:${idPart(info.abi)}:${info.patchset_hash || 'nopatches'}`;
  return { checkout, build: `${checkout}:${idPart(info.variant === 'debug' ? 'debug' : 'default')}`, info };
}

/** A real configuration name: Debian's config for the flavour, plus the debug fragment. */
function configName(info: KernelInfo | undefined): string | undefined {
  if (!info || !isDebian(info)) return undefined;
  return `debian-${flavour(info.abi)}${info.variant === 'debug' ? '+debug' : ''}`;
}

const earliest = (runs: RunResult[]): string | undefined => runs.map((r) => r.started_at).sort()[0];

function checkoutOf(origin: string, ids: KernelIds, label: string, runs: RunResult[]): KcidbCheckout {
  const info = ids.info;
  const c: KcidbCheckout = { id: ids.checkout, origin };
  if (info && isDebian(info)) {
    c.tree_name = 'debian';
    c.git_repository_url = DEBIAN_KERNEL_GIT;
    c.git_commit_name = `debian/${info.package_version}`;
  }
  if (info?.patchset_hash !== undefined) c.patchset_hash = info.patchset_hash;
  c.comment = !info
    ? `reset-bench kernel ${label}`
    : isDebian(info)
      ? `Linux ${info.abi} (Debian ${info.package_version})${patchesNote(info)}`
      : `Linux ${info.abi} built from ${label}`;
  // When testing of this checkout started: the first run on it (a Debian package's own
  // checkout time is not known here). Never the time the file was written.
  const start = earliest(runs);
  if (start) c.start_time = start;
  c.valid = true;
  c.misc = info ? { kernel: label, kernel_info: info } : { kernel: label };
  return c;
}

function buildOf(origin: string, ids: KernelIds, label: string, runs: RunResult[], tool: string): KcidbBuild {
  const b: KcidbBuild = { checkout_id: ids.checkout, id: ids.build, origin, comment: ids.info ? `${ids.info.abi} (${ids.info.variant})` : `reset-bench kernel ${label}` };
  const start = earliest(runs);
  if (start) b.start_time = start;
  b.architecture = 'x86_64';
  const config = configName(ids.info);
  if (config) b.config_name = config;
  b.valid = true;
  b.misc = { kernel: label, tool };
  return b;
}

/** Durations under metrics (null ones listed under "never"); points in time under at_ms. */
function metricsMisc(r: RunResult): Record<string, unknown> {
  const metrics: Record<string, number> = {};
  const never: string[] = [];
  for (const m of METRIC_NAMES) {
    const v = r.metrics[m];
    if (v === null) never.push(m);
    else metrics[m] = v;
  }
  // markers are points in time (ms from the run's time zero), not durations: named apart.
  const at: Record<string, number> = {};
  if (r.markers.device_gone_ms !== null) at.device_gone = r.markers.device_gone_ms;
  if (r.markers.device_back_ms !== null) at.device_back = r.markers.device_back_ms;
  if (r.markers.ctrl_live_ms !== null) at.ctrl_live = r.markers.ctrl_live_ms;
  const misc: Record<string, unknown> = {
    metrics,
    never,
    at_ms: at,
    kernel: r.kernel,
    scenario: r.scenario,
    iteration: r.iteration,
    topology: r.topology,
    side: r.side,
    reset: r.reset,
    clock: r.clock,
    splats: r.splat_lines.length,
    artifacts: r.artifacts,
  };
  if (r.phases_ms) misc.phases_ms = r.phases_ms;
  return misc;
}

export interface KcidbOptions {
  /** The submitting CI system ([a-z0-9_]+); default reset_bench. */
  origin?: string;
}

export function toKcidb(results: Results, opts: KcidbOptions = {}): KcidbReport {
  const origin = checkOrigin(opts.origin ?? KCIDB_ORIGIN);
  const tool = `${results.tool.name} ${results.tool.version}`;
  const idsOf = new Map<string, KernelIds>();
  for (const k of orderKernels(results.runs.map((r) => r.kernel))) {
    idsOf.set(k, kernelIds(origin, k, results.runs.find((r) => r.kernel === k && r.kernel_info)?.kernel_info));
  }
  const checkouts = new Map<string, KcidbCheckout>();
  const builds = new Map<string, KcidbBuild>();
  for (const [k, ids] of idsOf) {
    const runs = results.runs.filter((r) => r.kernel === k);
    if (!checkouts.has(ids.checkout)) checkouts.set(ids.checkout, checkoutOf(origin, ids, k, runs));
    if (!builds.has(ids.build)) builds.set(ids.build, buildOf(origin, ids, k, runs, tool));
  }
  const tests: KcidbTest[] = results.runs.map((r) => {
    const buildId = idsOf.get(r.kernel)!.build;
    const t: KcidbTest = {
      build_id: buildId,
      id: `${buildId}:${idPart(r.scenario)}:${r.iteration}:${stamp(r.started_at)}`,
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
  return { version: { major: 4, minor: 0 }, checkouts: [...checkouts.values()], builds: [...builds.values()], tests };
}

export function kcidbToJson(results: Results, opts: KcidbOptions = {}): string {
  return `${JSON.stringify(toKcidb(results, opts), null, 2)}\n`;
}
