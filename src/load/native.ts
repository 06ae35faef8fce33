// The addon's io_uring engine (src/native/uring_engine.cc), typed: what it takes, what it
// gives back, and whether io_uring works here. Loaded through src/native-loader.ts.
import { addonPart } from '../native-loader.js';

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
  /** Reads the pass issued, retries not counted (one read spans up to 128 KiB of blocks); absent from older loaders. */
  reads?: number;
  /** Bytes those reads asked for; absent from older loaders. */
  bytes?: number;
  /** Reads it kept in flight at most (verifyIodepth, else iodepth); absent from older loaders. */
  iodepth?: number;
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
/** The engine's part of the addon that a run uses (its test hooks: test/helpers/uring-scratch.ts). */
export interface UringBinding {
  uringStartJob(spec: Record<string, unknown>, onProgress?: (p: Progress) => void): NativeJobHandle;
  /** the limits table (src/native/limits.h); read it through src/load/limits.ts */
  limits: unknown;
}

/** The engine part of the addon; HarnessError saying how to build it. */
export function loadBinding(): UringBinding {
  return addonPart<UringBinding>('io_uring engine', ['uringStartJob']);
}
