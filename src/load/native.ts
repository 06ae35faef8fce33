// The addon's io_uring part, loaded from <package root>/build/Release (works from src/ and dist/).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from '../util/errors.js';

export interface RawLat {
  count: number;
  minNs: number;
  maxNs: number;
  meanNs: number;
  /** keys "1", "5", ..., "50", ..., "99.99" */
  percentilesNs: Record<string, number>;
}
export interface RawOp {
  ios: number;
  bytes: number;
  errors: number;
  retries: number;
  lat: RawLat;
}
export interface IoErrorRecord {
  timeNs: number;
  op: 'read' | 'write';
  offset: number;
  /** errno (0 for a short transfer, see code "SHORT") */
  errno: number;
  code: string;
  res: number;
  latNs: number;
  attempt: number;
  phase: 'run' | 'verify';
}
export type MismatchKind = 'lost' | 'missing' | 'torn' | 'corrupt' | 'misplaced' | 'future';
export interface MismatchRecord {
  timeNs: number;
  offset: number;
  kind: MismatchKind;
  phase: 'run' | 'verify';
  /** last acknowledged generation */
  expectedGen: number;
  /** last issued generation (a found gen in [expectedGen, issuedGen] is legal) */
  issuedGen: number;
  foundGen: number;
  foundChecksum: string;
  computedChecksum: string;
  foundOffset: number;
  foundWriteNs: number;
}
export interface RawGap {
  startNs: number;
  endNs: number;
  ns: number;
  /** no completion came before the job ended */
  open: boolean;
}
export interface RawTimeline {
  startNs: number;
  reads: Float64Array;
  writes: Float64Array;
  errors: Float64Array;
  p50Ns: Float64Array;
  p99Ns: Float64Array;
  maxNs: Float64Array;
}
export interface FinalPass {
  ran: boolean;
  startNs: number;
  endNs: number;
  blocks: number;
  checked: number;
  ok: number;
  okInflight: number;
  okUnwritten: number;
  unreadable: number;
  bad: number;
  byKind: Record<MismatchKind, number>;
}
export interface RawResult {
  direct: boolean;
  fixedBuffers: boolean;
  ringFlags: number;
  stoppedEarly: boolean;
  startNs: number;
  ioEndNs: number;
  endNs: number;
  firstCompletionNs: number;
  lastCompletionNs: number;
  nblocks: number;
  size: number;
  read: RawOp;
  write: RawOp;
  ioErrors: number;
  inflightAtEnd: number;
  abandoned: number;
  errors: IoErrorRecord[];
  verify: {
    mismatches: number;
    runMismatches: Record<MismatchKind, number>;
    details: MismatchRecord[];
    finalPass: FinalPass;
  };
  timeline: RawTimeline;
  gaps: RawGap[];
  state?: Buffer;
}
export interface Progress {
  nowNs: number;
  elapsedNs: number;
  reads: number;
  writes: number;
  errors: number;
  mismatches: number;
  inflight: number;
  lastCompletionNs: number;
  iops: number;
  phase: 'run' | 'verify';
}
export interface NativeJobHandle {
  promise: Promise<RawResult>;
  stop(): void;
  /** End the I/O phase now as if the runtime were up; the final verify pass still runs. */
  finish(): void;
}
export interface UringBinding {
  uringProbe(): number;
  uringStartJob(spec: Record<string, unknown>, onProgress?: (p: Progress) => void): NativeJobHandle;
  uringXxh64(buf: Uint8Array, seed?: number | bigint): string;
  uringFormatBlock(bs: number, seed: number, offset: number, gen: number): Buffer;
  monotonicNs(): number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: src/load/ and dist/load/ are both two levels down. */
export const packageRoot = resolve(here, '..', '..');
export const addonPath = resolve(packageRoot, 'build', 'Release', 'reset_bench_native.node');

let cached: UringBinding | undefined;

/** Loads the addon; throws HarnessError saying how to build it. */
export function loadBinding(): UringBinding {
  if (cached) return cached;
  if (!existsSync(addonPath))
    throw new HarnessError(`native addon not built: ${addonPath} is missing (run npm install or npx node-gyp rebuild)`);
  const require = createRequire(import.meta.url);
  const b = require(addonPath) as Partial<UringBinding>;
  if (typeof b.uringStartJob !== 'function')
    throw new HarnessError(`native addon at ${addonPath} has no io_uring engine (rebuild it)`);
  cached = b as UringBinding;
  return cached;
}

/**
 * Whether io_uring can be used here: { ok: true } or { ok: false, reason } (addon missing,
 * or io_uring_queue_init failed, e.g. seccomp or io_uring_disabled).
 */
export function uringAvailable(): { ok: true } | { ok: false; reason: string } {
  let b: UringBinding;
  try {
    b = loadBinding();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const r = b.uringProbe();
  if (r < 0) return { ok: false, reason: `io_uring unavailable: io_uring_queue_init returned ${r}` };
  return { ok: true };
}
