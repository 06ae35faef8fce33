// The loader's job spec: fio-like fields, validated with zod, normalised to numbers.
import { z } from 'zod';
import { UsageError } from '../util/errors.js';

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

/** Parses a size like fio does: 4096, "4k", "64M", "1g" (binary units). Throws on junk. */
export function parseSize(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`not a non-negative integer: ${v}`);
    return v;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a size: '${v}' (use e.g. 4096, 4k, 64m, 1g)`);
  const n = Number(m[1]) * unit;
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
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? DURATION_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a duration: '${v}' (use e.g. 500ms, 10s, 2m)`);
  return Number(m[1]) * unit;
}

const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDurationMs(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

export const jobSpecSchema = z
  .object({
    filename: z.string().min(1, 'a file or block device is required'),
    rw: z.enum(RW_MODES).default('randread'),
    bs: size.default(4096),
    iodepth: z.number().int().min(1).max(4096).default(32),
    offset: size.default(0),
    /** bytes from offset; 0 = to the end of the target (regular files are created/extended for writes) */
    size: size.default(0),
    /** stop after this long (ms); with ios, whichever comes first; with neither, one pass over size */
    runtimeMs: duration.optional(),
    /** stop after this many I/Os (fio's number_ios) */
    ios: z.number().int().min(1).optional(),
    rwmixread: z.number().int().min(0).max(100).default(50),
    /** rate limit in I/Os per second (0 or absent: unlimited) */
    rateIops: z.number().min(0).default(0),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
    /** header + derived payload in every write, reads check, final verify pass */
    verify: z.boolean().default(false),
    /** with verify: read back every written block when the run ends */
    finalVerify: z.boolean().default(true),
    intervalMs: duration.default(10),
    /** gaps between consecutive completions at least this long are listed exactly */
    gapThresholdMs: duration.default(50),
    /** failed I/O is resubmitted after this back-off */
    retryBackoffMs: duration.default(100),
    /** retries per I/O before giving up on it (absent: unlimited, as an application would) */
    maxRetries: z.number().int().min(0).optional(),
    progressMs: duration.default(250),
    direct: z.boolean().default(true),
    /** in-flight I/O at the end is waited for this long before the job gives up on it */
    drainTimeoutMs: duration.default(60_000),
    /** verify record of an earlier job on the same target (continue generations, check reads) */
    state: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "expected a Buffer or Uint8Array" }).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.bs < 512 || s.bs % 512 !== 0 || s.bs > 64 * 1024 * 1024)
      ctx.addIssue({ code: 'custom', path: ['bs'], message: `must be a multiple of 512 between 512 and 64M, got ${s.bs}` });
    if (s.offset % 512 !== 0)
      ctx.addIssue({ code: 'custom', path: ['offset'], message: `must be a multiple of 512, got ${s.offset}` });
    if (s.size !== 0 && s.size < s.bs)
      ctx.addIssue({ code: 'custom', path: ['size'], message: `must hold at least one block of ${s.bs} bytes` });
    if (s.intervalMs < 0.001) ctx.addIssue({ code: 'custom', path: ['intervalMs'], message: 'must be > 0' });
    if (s.runtimeMs !== undefined && s.runtimeMs <= 0)
      ctx.addIssue({ code: 'custom', path: ['runtimeMs'], message: 'must be > 0' });
  });

export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobSpec = z.output<typeof jobSpecSchema>;

/** Validates a job spec. Throws UsageError naming the field (e.g. "bs: ..."). */
export function parseJobSpec(input: unknown): JobSpec {
  const r = jobSpecSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  let field = issue.path.map(String).join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    field = (issue as { keys: string[] }).keys[0] ?? '';
    message = 'unknown option';
  }
  throw new UsageError(message, field || undefined);
}

/** The object the native engine takes (ns units, engine field names). */
export function toNativeSpec(s: JobSpec, over: { rw?: string } = {}): Record<string, unknown> {
  const ns = (ms: number): number => Math.round(ms * 1e6);
  return {
    filename: s.filename,
    rw: over.rw ?? s.rw,
    bs: s.bs,
    iodepth: s.iodepth,
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
    state: s.state,
  };
}
