// The loader's public API (used by the harness, the guest agent and the CLI).
export { parseJobSpec, parseSize, parseDurationMs, toNativeSpec, RW_MODES } from './spec.js';
export type { JobSpec, JobSpecInput, RwMode } from './spec.js';
export { startLoad, runLoad, verifyTarget, shapeResult, resultToJson } from './run.js';
export type { LoadResult, LoadHandle, OpSummary, StartOptions, VerifyOptions, Progress } from './run.js';
export { loadBinding, uringAvailable, addonPath, packageRoot } from './native.js';
export type { IoErrorRecord, MismatchRecord, MismatchKind, FinalPass, RawResult } from './native.js';
export { timelineRows, percentile, bucketize, gapsAbove, longestGap, firstCompletionAfter, timelineTotals } from './timeline.js';
export type { TimelineRow, Gap, ColumnarTimeline, CompletionEvent } from './timeline.js';
export { decodeStateHeader, blockRecord, stateCounts, saveState, loadState, STATE_HEADER_BYTES } from './verify.js';
export type { StateInfo } from './verify.js';
export { formatSummary, fmtCount, fmtBytes, fmtBytesDec, latUnit, fmtPercentiles } from './summary.js';
export { runLoaderBench, formatBench, fioIops } from './bench.js';
export type { BenchOptions, BenchResult, BenchCase, BenchRw } from './bench.js';
