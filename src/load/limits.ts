// The loader's limits, read from the addon: src/native/limits.h is the one table, the
// engine enforces it, and the job spec's checks and the state file's checks here are
// built from the same numbers (test/unit/load-limits.test.ts proves they agree).
// Checked by hand, not with zod: this runs in the guest's loader, where zod costs seconds.
import { HarnessError } from '../util/errors.js';
import { loadBinding } from './native.js';

export interface LoaderLimits {
  bsMin: number;
  bsMax: number;
  /** bs and offset are multiples of this */
  bsAlign: number;
  iodepthMin: number;
  iodepthMax: number;
  rwmixreadMax: number;
  intervalNsMin: number;
  progressNsMin: number;
  /** blocks a verify record may cover */
  verifyBlocksMax: number;
  stateHeaderBytes: number;
  stateRecordBytes: number;
  stateMagic: number;
  stateVersion: number;
  generationMax: number;
  verifyRetriesMax: number;
  /** unrecorded blocks one read of the final pass may span */
  verifyGapMax: number;
}

/** Every limit the TypeScript side knows: the addon's table must have exactly these. */
export const LIMIT_NAMES = [
  'bsMin',
  'bsMax',
  'bsAlign',
  'iodepthMin',
  'iodepthMax',
  'rwmixreadMax',
  'intervalNsMin',
  'progressNsMin',
  'verifyBlocksMax',
  'stateHeaderBytes',
  'stateRecordBytes',
  'stateMagic',
  'stateVersion',
  'generationMax',
  'verifyRetriesMax',
  'verifyGapMax',
] as const satisfies readonly (keyof LoaderLimits)[];

/** Checks the addon's table: exactly LIMIT_NAMES, each a non-negative safe integer. */
export function checkLimits(table: unknown): LoaderLimits {
  if (typeof table !== 'object' || table === null) throw new HarnessError('native addon: no limits table (rebuild it)');
  const t = table as Record<string, unknown>;
  const extra = Object.keys(t).filter((k) => !(LIMIT_NAMES as readonly string[]).includes(k));
  const bad = LIMIT_NAMES.filter((k) => typeof t[k] !== 'number' || !Number.isSafeInteger(t[k]) || t[k] < 0);
  if (extra.length > 0 || bad.length > 0)
    throw new HarnessError(`native addon: limits table does not match src/load/limits.ts (unknown: ${extra.join(', ') || '-'}; missing or bad: ${bad.join(', ') || '-'})`);
  return t as unknown as LoaderLimits;
}

let cached: LoaderLimits | undefined;

/** The limits the engine enforces (loads the addon on first use). */
export function loaderLimits(): LoaderLimits {
  cached ??= checkLimits(loadBinding().limits);
  return cached;
}

/** "64M"-style size for messages: 67108864 -> "64M", 512 -> "512". */
export function fmtLimitSize(n: number): string {
  for (const [u, f] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['k', 1024]] as const) if (n >= f && n % f === 0) return `${n / f}${u}`;
  return String(n);
}
