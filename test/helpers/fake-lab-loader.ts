// The fake lab's loader output: a whole LoadResult (the type the real loader prints)
// built from when the fake's I/O could flow, so the runner's metrics see a real-looking
// series: completions in every 10 ms interval while I/O flowed, a gap while it did not.
import type { LoadResult, OpSummary } from '../../src/load/run.js';
import type { IoErrorRecord, MismatchKind } from '../../src/load/native.js';

export interface FakeLoaderOutcome {
  verifyErrors?: number;
  lostWrites?: number;
  /** I/O errors during the run (records included). */
  errors?: IoErrorRecord[];
  /** The loader ends by itself this long after it starts (a crash, a runtime too short). */
  stopsAfterMs?: number;
  /** The final read-back does not run even when asked for. */
  noFinalPass?: boolean;
}

const INTERVAL_NS = 10_000_000;
const KINDS: MismatchKind[] = ['lost', 'missing', 'torn', 'corrupt', 'misplaced', 'future'];
const lat = { count: 0, minNs: 0, maxNs: 0, meanNs: 0, percentilesNs: {} };

function op(ios: number, runtimeNs: number): OpSummary {
  return { ios, bytes: ios * 4096, errors: 0, retries: 0, iops: runtimeNs ? ios / (runtimeNs / 1e9) : 0, bytesPerSec: 0, lat };
}

function flowingAt(flow: [bigint, boolean][], t: bigint): boolean {
  let v = false;
  for (const [ts, f] of flow) {
    if (ts > t) break;
    v = f;
  }
  return v;
}

export function fakeLoadResult(a: { flow: [bigint, boolean][]; startNs: bigint; endNs: bigint; verify: boolean; /** the job document the runner sent */ job: string; outcome: FakeLoaderOutcome }): LoadResult {
  const n = Math.max(1, Math.ceil(Number(a.endNs - a.startNs) / INTERVAL_NS));
  const writes: number[] = [];
  for (let i = 0; i < n; i++) writes.push(flowingAt(a.flow, a.startNs + BigInt(i * INTERVAL_NS + INTERVAL_NS / 2)) ? 10 : 0);
  const gaps: LoadResult['gaps'] = [];
  let from: number | undefined;
  writes.forEach((w, i) => {
    if (w === 0 && from === undefined) from = i;
    if (w > 0 && from !== undefined) {
      gaps.push({ startNs: Number(a.startNs) + from * INTERVAL_NS, endNs: Number(a.startNs) + i * INTERVAL_NS, ns: (i - from) * INTERVAL_NS, open: false });
      from = undefined;
    }
  });
  if (from !== undefined) gaps.push({ startNs: Number(a.startNs) + from * INTERVAL_NS, endNs: Number(a.endNs), ns: Number(a.endNs) - (Number(a.startNs) + from * INTERVAL_NS), open: true });
  const total = writes.reduce((s, w) => s + w, 0);
  const runtimeNs = Number(a.endNs - a.startNs);
  const errors = a.outcome.errors ?? [];
  const verifyErrors = a.outcome.verifyErrors ?? 0;
  const lostWrites = a.outcome.lostWrites ?? 0;
  const ran = a.verify && !a.outcome.noFinalPass;
  const zeros = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<MismatchKind, number>;
  return {
    version: 1,
    spec: {
      filename: (JSON.parse(a.job) as { filename?: string }).filename ?? '',
      rw: 'randwrite', bs: 4096, iodepth: 8, verifyMaxGap: 0, offset: 0, size: 64 << 20, rwmixread: 0, rateIops: 0, seed: 1, verify: true,
      finalVerify: true, intervalMs: 10, gapThresholdMs: 50, retryBackoffMs: 100, progressMs: 100, direct: true, drainTimeoutMs: 20_000,
    },
    mode: 'load',
    target: { filename: '/dev/nvme0n1', direct: true, fixedBuffers: true, size: 64 << 20, nblocks: 16384 },
    startNs: Number(a.startNs),
    ioEndNs: Number(a.endNs),
    endNs: Number(a.endNs),
    runtimeNs,
    firstCompletionNs: Number(a.startNs),
    lastCompletionNs: Number(a.endNs),
    stoppedEarly: !a.verify,
    read: op(0, runtimeNs),
    write: op(total, runtimeNs),
    ioErrors: errors.length,
    errors,
    abandoned: 0,
    inflightAtEnd: 0,
    verify: {
      enabled: true,
      errors: verifyErrors,
      lostWrites,
      tornWrites: 0,
      runMismatches: zeros,
      finalPass: { ran, startNs: Number(a.endNs), endNs: Number(a.endNs), blocks: 16384, checked: ran ? total : 0, ok: ran ? total : 0, okInflight: 0, okUnwritten: 0, unreadable: 0, bad: verifyErrors, byKind: zeros },
      details: [],
    },
    timeline: { startNs: Number(a.startNs), intervalNs: INTERVAL_NS, reads: writes.map(() => 0), writes, errors: writes.map(() => 0), p50Ns: writes.map(() => 0), p99Ns: writes.map(() => 0), maxNs: writes.map(() => 0) },
    gaps,
    metrics: { iops: runtimeNs ? total / (runtimeNs / 1e9) : 0, longestGapMs: Math.max(0, ...gaps.map((g) => g.ns / 1e6)), ioErrors: errors.length, verifyErrors, lostWrites },
  };
}
