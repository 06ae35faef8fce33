// The loader's result as the host receives it: the JSON a loader in a guest printed
// (`reset-bench load --json`) is checked here, field by field, before the runner reads a
// number of it. Host side only: zod costs seconds to import in a TCG guest, and the guest
// never parses its own output.
import { z } from 'zod';
import { HarnessError } from '../util/errors.js';
import { RW_MODES } from './spec.js';
import type { LoadResult } from './run.js';

const count = z.number().int().nonnegative();
const ns = z.number().nonnegative();
const KINDS = ['lost', 'missing', 'torn', 'corrupt', 'misplaced', 'future'] as const;
const byKind = z.object(Object.fromEntries(KINDS.map((k) => [k, count])) as Record<(typeof KINDS)[number], typeof count>);
const phase = z.enum(['run', 'verify']);

const lat = z.object({
  count,
  minNs: ns,
  maxNs: ns,
  meanNs: ns,
  percentilesNs: z.record(z.string(), ns),
});
const op = z.object({ ios: count, bytes: count, errors: count, retries: count, iops: z.number().nonnegative(), bytesPerSec: z.number().nonnegative(), lat });

const spec = z.object({
  filename: z.string(),
  rw: z.enum(RW_MODES),
  bs: count,
  iodepth: count,
  verifyIodepth: count.optional(),
  verifyMaxGap: count,
  offset: count,
  size: count,
  runtimeMs: ns.optional(),
  ios: count.optional(),
  rwmixread: count,
  rateIops: z.number().nonnegative(),
  seed: count,
  verify: z.boolean(),
  finalVerify: z.boolean(),
  intervalMs: ns,
  gapThresholdMs: ns,
  retryBackoffMs: ns,
  maxRetries: count.optional(),
  progressMs: ns,
  direct: z.boolean(),
  drainTimeoutMs: ns,
  stopDrainTimeoutMs: ns.optional(),
});

const ioError = z.object({
  timeNs: ns,
  op: z.enum(['read', 'write']),
  offset: count,
  errno: count,
  code: z.string(),
  res: z.number().int(),
  latNs: ns,
  attempt: count,
  phase,
});

const mismatch = z.object({
  timeNs: ns,
  offset: count,
  kind: z.enum(KINDS),
  phase,
  expectedGen: count,
  issuedGen: count,
  foundGen: count,
  foundChecksum: z.string().regex(/^[0-9a-f]{16}$/),
  computedChecksum: z.string().regex(/^[0-9a-f]{16}$/),
  foundOffset: count,
  foundWriteNs: ns,
});

const finalPass = z.object({
  ran: z.boolean(),
  startNs: ns,
  endNs: ns,
  blocks: count,
  checked: count,
  ok: count,
  okInflight: count,
  okUnwritten: count,
  unreadable: count,
  bad: count,
  byKind,
  reads: count.optional(),
  bytes: count.optional(),
  iodepth: count.optional(),
});

/**
 * A timeline column: non-negative numbers, checked in one pass. As z.array(z.number()) the
 * columns (six of about 2000 numbers for a 20 s run) were most of a parse's time on the
 * host: 15-19 ms of it warm, 5-7 ms now.
 */
const series = z.custom<number[]>(
  (v) => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0),
  'expected an array of non-negative numbers',
);
const gap = z.object({ startNs: ns, endNs: ns, ns, open: z.boolean() });

export const loadResultSchema = z.object({
  version: z.literal(1),
  spec,
  mode: z.enum(['load', 'verify']),
  target: z.object({ filename: z.string(), direct: z.boolean(), fixedBuffers: z.boolean(), size: count, nblocks: count }),
  startNs: ns,
  ioEndNs: ns,
  endNs: ns,
  runtimeNs: ns,
  firstCompletionNs: ns,
  lastCompletionNs: ns,
  stoppedEarly: z.boolean(),
  read: op,
  write: op,
  ioErrors: count,
  errors: z.array(ioError),
  abandoned: count,
  inflightAtEnd: count,
  verify: z.object({
    enabled: z.boolean(),
    errors: count,
    lostWrites: count,
    tornWrites: count,
    runMismatches: byKind,
    finalPass,
    details: z.array(mismatch),
  }),
  timeline: z
    .object({ startNs: ns, intervalNs: ns, reads: series, writes: series, errors: series, p50Ns: series, p99Ns: series, maxNs: series })
    .refine((t) => [t.writes, t.errors, t.p50Ns, t.p99Ns, t.maxNs].every((c) => c.length === t.reads.length), 'timeline columns differ in length'),
  gaps: z.array(gap),
  metrics: z.object({ iops: z.number().nonnegative(), longestGapMs: z.number().nonnegative(), ioErrors: count, verifyErrors: count, lostWrites: count }),
});

// The schema's output is a LoadResult (without the state buffer, which is not in the JSON):
// a field added to LoadResult and not here fails to compile.
const _isLoadResult = (r: z.infer<typeof loadResultSchema>): Omit<LoadResult, 'state'> => r;
void _isLoadResult;

/**
 * Zod's one-time set-up of this schema, ahead of the loader's result (the runner calls it
 * as the loader starts): about 5 ms here, where the first parse, cold, took 45-100 ms on
 * the host, inside the runner's finish phase; warm it takes 5-19 ms.
 */
export function warmLoadResultSchema(): void {
  loadResultSchema.safeParse({});
}

/**
 * Parses and checks the loader's JSON output. HarnessError (the harness, not the kernel,
 * is at fault) saying which field is wrong, with `context` (e.g. "the loader in host").
 */
export function parseLoadResult(text: string, context = 'the loader'): LoadResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new HarnessError(`${context} printed no JSON (${(e as Error).message}): ${text.slice(0, 200)}`);
  }
  const r = loadResultSchema.safeParse(data);
  if (!r.success) throw new HarnessError(`${context} printed a result that breaks the loader contract:\n${z.prettifyError(r.error)}`);
  return r.data;
}
