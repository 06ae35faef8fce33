// Run a loader job on the native engine and shape its results (JSON-ready).
import { HarnessError, UsageError } from '../util/errors.js';
import {
  loadBinding,
  type FinalPass,
  type IoErrorRecord,
  type MismatchKind,
  type MismatchRecord,
  type Progress,
  type RawLat,
  type RawResult,
} from './native.js';
import { parseJobSpec, toNativeSpec, type JobSpec, type JobSpecInput } from './spec.js';
import { longestGap, type ColumnarTimeline, type Gap } from './timeline.js';
import { decodeStateHeader } from './verify.js';

export type { Progress } from './native.js';

export interface OpSummary {
  ios: number;
  bytes: number;
  errors: number;
  retries: number;
  iops: number;
  bytesPerSec: number;
  lat: RawLat;
}

export interface LoadResult {
  version: 1;
  /** the validated spec (without the state buffer) */
  spec: Omit<JobSpec, 'state'>;
  mode: 'load' | 'verify';
  target: { filename: string; direct: boolean; fixedBuffers: boolean; size: number; nblocks: number };
  /** CLOCK_MONOTONIC ns */
  startNs: number;
  ioEndNs: number;
  endNs: number;
  /** ns from start to the end of the I/O phase (before the final verify pass) */
  runtimeNs: number;
  firstCompletionNs: number;
  lastCompletionNs: number;
  stoppedEarly: boolean;
  read: OpSummary;
  write: OpSummary;
  ioErrors: number;
  /** the first few thousand errors, each with errno, op, offset and time */
  errors: IoErrorRecord[];
  /** I/Os given up on (retries exhausted, or pending at the end) */
  abandoned: number;
  /** I/Os still in flight after the drain timeout (the buffers were leaked, not freed) */
  inflightAtEnd: number;
  verify: {
    enabled: boolean;
    /** all bad blocks seen, during the run and in the final pass */
    errors: number;
    /** acknowledged writes not found (older generation or no header) */
    lostWrites: number;
    /** torn or corrupt blocks */
    tornWrites: number;
    runMismatches: Record<MismatchKind, number>;
    finalPass: FinalPass;
    details: MismatchRecord[];
  };
  timeline: ColumnarTimeline;
  gaps: Gap[];
  metrics: { iops: number; longestGapMs: number; ioErrors: number; verifyErrors: number; lostWrites: number };
  /** verify record for a later verify pass or job (not part of the JSON) */
  state?: Buffer;
}

export interface LoadHandle {
  /** Ask the engine to stop early (it drains in-flight I/O; the final pass is skipped). */
  stop(): void;
  result: Promise<LoadResult>;
}

export interface StartOptions {
  onProgress?: (p: Progress) => void;
  /** Abort: stop early, drain, skip the final pass. */
  signal?: AbortSignal;
  /** Abort: end the I/O phase now and still run the final verify pass. */
  finishSignal?: AbortSignal;
}

function opSummary(o: RawResult['read'], runtimeNs: number): OpSummary {
  const s = runtimeNs > 0 ? runtimeNs / 1e9 : 0;
  return { ...o, iops: s ? o.ios / s : 0, bytesPerSec: s ? o.bytes / s : 0 };
}

/**
 * A typed array as a plain one (JSON-ready). Array.prototype.slice, not Array.from: the
 * engine's six columns of a 30 s job took 10 ms through Array.from in a fresh node on the
 * host (its iteration runs cold once per loader) and under 1 ms through slice.
 */
const plainArray = (a: Float64Array): number[] => Array.prototype.slice.call(a) as number[];

export function shapeResult(raw: RawResult, spec: JobSpec, mode: 'load' | 'verify'): LoadResult {
  const { state: _state, ...specOut } = spec;
  const runtimeNs = raw.ioEndNs > raw.startNs ? raw.ioEndNs - raw.startNs : 0;
  const byKind = (k: MismatchKind): number => raw.verify.runMismatches[k] + raw.verify.finalPass.byKind[k];
  const lostWrites = byKind('lost') + byKind('missing');
  const tornWrites = byKind('torn') + byKind('corrupt');
  const read = opSummary(raw.read, runtimeNs);
  const write = opSummary(raw.write, runtimeNs);
  const timeline: ColumnarTimeline = {
    startNs: raw.timeline.startNs,
    intervalNs: Math.round(spec.intervalMs * 1e6),
    reads: plainArray(raw.timeline.reads),
    writes: plainArray(raw.timeline.writes),
    errors: plainArray(raw.timeline.errors),
    p50Ns: plainArray(raw.timeline.p50Ns),
    p99Ns: plainArray(raw.timeline.p99Ns),
    maxNs: plainArray(raw.timeline.maxNs),
  };
  const lg = longestGap(raw.gaps);
  const res: LoadResult = {
    version: 1,
    spec: specOut,
    mode,
    target: {
      filename: spec.filename,
      direct: raw.direct,
      fixedBuffers: raw.fixedBuffers,
      size: raw.size,
      nblocks: raw.nblocks,
    },
    startNs: raw.startNs,
    ioEndNs: raw.ioEndNs,
    endNs: raw.endNs,
    runtimeNs,
    firstCompletionNs: raw.firstCompletionNs,
    lastCompletionNs: raw.lastCompletionNs,
    stoppedEarly: raw.stoppedEarly,
    read,
    write,
    ioErrors: raw.ioErrors,
    errors: raw.errors,
    abandoned: raw.abandoned,
    inflightAtEnd: raw.inflightAtEnd,
    verify: {
      enabled: spec.verify || mode === 'verify',
      errors: raw.verify.mismatches,
      lostWrites,
      tornWrites,
      runMismatches: raw.verify.runMismatches,
      finalPass: raw.verify.finalPass,
      details: raw.verify.details,
    },
    timeline,
    gaps: raw.gaps,
    metrics: {
      iops: read.iops + write.iops,
      longestGapMs: lg ? lg.ns / 1e6 : 0,
      ioErrors: raw.ioErrors,
      verifyErrors: raw.verify.mismatches,
      lostWrites,
    },
  };
  if (raw.state) Object.defineProperty(res, 'state', { value: raw.state, enumerable: false, writable: true });
  return res;
}

function translateNativeError(e: unknown): Error {
  const err = e as Error & { code?: string; errno?: number };
  if (err && err.code === 'ERR_LOAD_SPEC') {
    const m = /^(\w+): (.*)$/s.exec(err.message);
    const field = m?.[1] === 'runtimeNs' ? 'runtimeMs' : m?.[1];
    return new UsageError(m ? m[2]! : err.message, field);
  }
  if (err && err.code === 'ERR_LOAD_TARGET') {
    const m = /^(\w+): (.*)$/s.exec(err.message);
    return new UsageError(m ? m[2]! : err.message, m?.[1] ?? 'filename');
  }
  if (err instanceof Error) return new HarnessError(`loader: ${err.message}`, { cause: err });
  return new HarnessError(`loader: ${String(e)}`);
}

function start(spec: JobSpec, mode: 'load' | 'verify', opts: StartOptions): LoadHandle {
  const b = loadBinding();
  let h;
  try {
    h = b.uringStartJob(toNativeSpec(spec, mode === 'verify' ? { rw: 'verify' } : {}), opts.onProgress);
  } catch (e) {
    throw translateNativeError(e);
  }
  const onAbort = (): void => h.stop();
  if (opts.signal) {
    if (opts.signal.aborted) h.stop();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }
  const result = h.promise.then(
    (raw) => shapeResult(raw, spec, mode),
    (e: unknown) => {
      throw translateNativeError(e);
    },
  );
  const onFinish = (): void => h.finish();
  if (opts.finishSignal) {
    if (opts.finishSignal.aborted) h.finish();
    else opts.finishSignal.addEventListener('abort', onFinish, { once: true });
  }
  void result
    .finally(() => {
      opts.signal?.removeEventListener('abort', onAbort);
      opts.finishSignal?.removeEventListener('abort', onFinish);
    })
    .catch(() => {});
  return { stop: () => h.stop(), result };
}

/** Starts a job (validated with parseJobSpec; UsageError on bad input) and returns at once. */
export function startLoad(spec: JobSpecInput | JobSpec, opts: StartOptions = {}): LoadHandle {
  return start(parseJobSpec(spec), 'load', opts);
}

/** Runs a job to its end (runtime, I/O count, one pass, or opts.signal) and returns its results. */
export async function runLoad(spec: JobSpecInput | JobSpec, opts: StartOptions = {}): Promise<LoadResult> {
  return startLoad(spec, opts).result;
}

/** runLoad for a spec parseJobSpec (or parseJobDocument) already checked: no second check. */
export async function runJob(spec: JobSpec, opts: StartOptions = {}): Promise<LoadResult> {
  return start(spec, 'load', opts).result;
}

export interface VerifyOptions {
  filename: string;
  /** the state of the job that wrote the target (LoadResult.state, or loadState(file)) */
  state: Uint8Array;
  iodepth?: number;
  /** unrecorded blocks a read may span between two recorded ones (default 0: none) */
  verifyMaxGap?: number;
  direct?: boolean;
  retryBackoffMs?: number;
  /** read retries per block before it counts as unreadable (default 10) */
  maxRetries?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/**
 * The final verify pass on its own: reads every block the state has a record of and
 * proves that no acknowledged write was lost or torn (result.verify.finalPass, .lostWrites).
 */
export async function verifyTarget(o: VerifyOptions): Promise<LoadResult> {
  const info = decodeStateHeader(o.state);
  const spec = parseJobSpec({
    filename: o.filename,
    rw: 'read',
    bs: info.bs,
    offset: info.offset,
    size: info.size,
    seed: info.seed,
    iodepth: o.iodepth ?? 32,
    verifyMaxGap: o.verifyMaxGap ?? 0,
    direct: o.direct ?? true,
    verify: true,
    retryBackoffMs: o.retryBackoffMs ?? 100,
    maxRetries: o.maxRetries ?? 10,
    state: o.state,
  });
  return start(spec, 'verify', { onProgress: o.onProgress, signal: o.signal }).result;
}

/** The results as JSON text (the state buffer is left out; save it with saveState). */
export function resultToJson(r: LoadResult, space = 2): string {
  return JSON.stringify(r, null, space);
}
