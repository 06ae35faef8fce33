// The loader's job spec: fio-like fields, validated and normalised to numbers. This is the
// one check of a job (the engine only re-asserts the limits it shares with it, from
// src/native/limits.h). Checked by hand, not with zod: the loader starts in the guest under
// TCG, where importing zod alone takes 3-4 s. The messages are the ones zod gave.
import { UsageError } from '../util/errors.js';
import { fmtLimitSize, loaderLimits } from './limits.js';
import { FieldIssue, bool, custom, num, numberOrString, oneOf, str, type Parser } from './spec-check.js';
import { LOAD_DRAIN_DEFAULT_MS } from '../util/timeouts.js';

export const RW_MODES = ['read', 'write', 'randread', 'randwrite', 'randrw'] as const;
export type RwMode = (typeof RW_MODES)[number];

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** "<number><unit>" with a unit of `units` (any case, '' for none): the number times the unit. Throws naming the examples. */
function withUnit(v: string, units: Readonly<Record<string, number>>, what: string, examples: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? units[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a ${what}: '${v}' (use e.g. ${examples})`);
  return Number(m[1]) * unit;
}

/** Parses a size like fio does: 4096, "4k", "64M", "1g" (binary units). Throws on junk. */
export function parseSize(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`not a non-negative integer: ${v}`);
    return v;
  }
  const n = withUnit(v, SIZE_UNITS, 'size', '4096, 4k, 64m, 1g');
  if (!Number.isSafeInteger(n)) throw new Error(`not a whole number of bytes: '${v}'`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Parses a duration in ms: 500, "500ms", "10s", "2m", "1h". A bare number is milliseconds. */
export function parseDurationMs(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new Error(`not a non-negative duration: ${v}`);
    return v;
  }
  return withUnit(v, DURATION_UNITS, 'duration', '500ms, 10s, 2m');
}

const size = numberOrString(parseSize);
const duration = numberOrString(parseDurationMs);

/** A validated job: every field with a default is set. */
export interface JobSpec {
  filename: string;
  rw: RwMode;
  bs: number;
  iodepth: number;
  /** reads in flight in the final verify pass (absent: iodepth) */
  verifyIodepth?: number;
  /**
   * unrecorded blocks one read of the final pass may span between two recorded ones
   * (0: it reads exactly the blocks writes touched, adjacent ones coalesced)
   */
  verifyMaxGap: number;
  offset: number;
  /** bytes from offset; 0 = to the end of the target (regular files are created/extended for writes) */
  size: number;
  /** stop after this long (ms); with ios, whichever comes first; with neither, one pass over size */
  runtimeMs?: number;
  /** stop after this many I/Os (fio's number_ios) */
  ios?: number;
  rwmixread: number;
  /** rate limit in I/Os per second (0 or absent: unlimited) */
  rateIops: number;
  seed: number;
  /** header + derived payload in every write, reads check, final verify pass */
  verify: boolean;
  /** with verify: read back every written block when the run ends */
  finalVerify: boolean;
  intervalMs: number;
  /** gaps between consecutive completions at least this long are listed exactly */
  gapThresholdMs: number;
  /** failed I/O is resubmitted after this back-off */
  retryBackoffMs: number;
  /** retries per I/O before giving up on it (absent: unlimited, as an application would) */
  maxRetries?: number;
  progressMs: number;
  direct: boolean;
  /** in-flight I/O at the end is waited for this long before the job gives up on it */
  drainTimeoutMs: number;
  /**
   * the same wait when the job is stopped (SIGINT, stop(), signal: no final pass follows);
   * absent: drainTimeoutMs. A finish (SIGUSR2) or the end of the runtime waits drainTimeoutMs.
   */
  stopDrainTimeoutMs?: number;
  /** verify record of an earlier job on the same target (continue generations, check reads) */
  state?: Uint8Array;
}

type SizeIn = number | string;
/** What parseJobSpec takes: sizes and durations may be strings ("4k", "10s"). */
export type JobSpecInput = { filename: string } & Partial<
  Omit<JobSpec, 'filename' | 'bs' | 'offset' | 'size' | 'runtimeMs' | 'intervalMs' | 'gapThresholdMs' | 'retryBackoffMs' | 'progressMs' | 'drainTimeoutMs' | 'stopDrainTimeoutMs'> & {
    bs: SizeIn;
    offset: SizeIn;
    size: SizeIn;
    runtimeMs: SizeIn;
    intervalMs: SizeIn;
    gapThresholdMs: SizeIn;
    retryBackoffMs: SizeIn;
    progressMs: SizeIn;
    drainTimeoutMs: SizeIn;
    stopDrainTimeoutMs: SizeIn;
  }
>;

/** A field with neither a default nor `required` may be absent. */
type FieldSpec<T> = { parse: Parser<T>; default?: T; required?: true };

/** The fields in the order they are checked (the first bad one is reported). */
const FIELDS: { [K in keyof JobSpec]-?: FieldSpec<NonNullable<JobSpec[K]>> } = {
  filename: { parse: str('a file or block device is required'), required: true },
  rw: { parse: oneOf(RW_MODES), default: 'randread' },
  bs: { parse: size, default: 4096 },
  iodepth: { parse: (v) => num({ int: true, min: loaderLimits().iodepthMin, max: loaderLimits().iodepthMax })(v), default: 32 },
  verifyIodepth: { parse: (v) => num({ int: true, min: loaderLimits().iodepthMin, max: loaderLimits().iodepthMax })(v) },
  verifyMaxGap: { parse: (v) => num({ int: true, min: 0, max: loaderLimits().verifyGapMax })(v), default: 0 },
  offset: { parse: size, default: 0 },
  size: { parse: size, default: 0 },
  runtimeMs: { parse: duration },
  ios: { parse: num({ int: true, min: 1 }) },
  rwmixread: { parse: (v) => num({ int: true, min: 0, max: loaderLimits().rwmixreadMax })(v), default: 50 },
  rateIops: { parse: num({ min: 0 }), default: 0 },
  seed: { parse: num({ int: true, min: 0, max: Number.MAX_SAFE_INTEGER }), default: 1 },
  verify: { parse: bool, default: false },
  finalVerify: { parse: bool, default: true },
  intervalMs: { parse: duration, default: 10 },
  gapThresholdMs: { parse: duration, default: 50 },
  retryBackoffMs: { parse: duration, default: 100 },
  maxRetries: { parse: num({ int: true, min: 0 }) },
  progressMs: { parse: duration, default: 250 },
  direct: { parse: bool, default: true },
  drainTimeoutMs: { parse: duration, default: LOAD_DRAIN_DEFAULT_MS },
  stopDrainTimeoutMs: { parse: duration },
  state: { parse: custom((v): v is Uint8Array => v instanceof Uint8Array, 'expected a Buffer or Uint8Array') },
};

/** Checks that need the whole spec: [field, message] of the first that fails. */
function crossCheck(s: JobSpec): [keyof JobSpec, string] | undefined {
  const L = loaderLimits();
  if (s.bs < L.bsMin || s.bs % L.bsAlign !== 0 || s.bs > L.bsMax)
    return ['bs', `must be a multiple of ${L.bsAlign} between ${fmtLimitSize(L.bsMin)} and ${fmtLimitSize(L.bsMax)}, got ${s.bs}`];
  if (s.offset % L.bsAlign !== 0) return ['offset', `must be a multiple of ${L.bsAlign}, got ${s.offset}`];
  if (s.size !== 0 && s.size < s.bs) return ['size', `must hold at least one block of ${s.bs} bytes`];
  if (s.intervalMs * 1e6 < L.intervalNsMin) return ['intervalMs', `must be at least ${L.intervalNsMin / 1e6} ms`];
  if (s.runtimeMs !== undefined && s.runtimeMs <= 0) return ['runtimeMs', 'must be > 0'];
  return undefined;
}

/** Validates a job spec. Throws UsageError naming the field (e.g. "bs: ..."). */
export function parseJobSpec(input: unknown): JobSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new UsageError(`Invalid input: expected object, received ${FieldIssue.typeName(input)}`);
  const raw = input as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(FIELDS) as [string, FieldSpec<unknown>][]) {
    const v = raw[key];
    try {
      if (v !== undefined || f.required) out[key] = f.parse(v);
      else if (f.default !== undefined) out[key] = f.default;
      else if (key in raw) out[key] = undefined;
    } catch (e) {
      if (e instanceof FieldIssue) throw new UsageError(e.message, key);
      throw e;
    }
  }
  const unknown = Object.keys(raw).find((k) => !Object.hasOwn(FIELDS, k));
  if (unknown !== undefined) throw new UsageError('unknown option', unknown);
  const spec = out as unknown as JobSpec;
  const bad = crossCheck(spec);
  if (bad) throw new UsageError(bad[1], bad[0]);
  return spec;
}

/** The object the native engine takes (ns units, engine field names). */
export function toNativeSpec(s: JobSpec, over: { rw?: string } = {}): Record<string, unknown> {
  const ns = (ms: number): number => Math.round(ms * 1e6);
  return {
    filename: s.filename,
    rw: over.rw ?? s.rw,
    bs: s.bs,
    iodepth: s.iodepth,
    verifyIodepth: s.verifyIodepth,
    verifyMaxGap: s.verifyMaxGap,
    offset: s.offset,
    size: s.size,
    runtimeNs: s.runtimeMs !== undefined ? ns(s.runtimeMs) : 0,
    // with neither runtime nor count the engine does one pass over the range, as fio does
    ios: s.ios ?? 0,
    rwmixread: s.rwmixread,
    rateIops: s.rateIops,
    seed: s.seed,
    verify: s.verify,
    finalVerify: s.finalVerify,
    intervalNs: ns(s.intervalMs),
    gapThresholdNs: ns(s.gapThresholdMs),
    backoffNs: ns(s.retryBackoffMs),
    maxRetries: s.maxRetries,
    progressNs: ns(s.progressMs),
    direct: s.direct,
    drainTimeoutNs: ns(s.drainTimeoutMs),
    stopDrainTimeoutNs: ns(s.stopDrainTimeoutMs ?? s.drainTimeoutMs),
    state: s.state,
  };
}
