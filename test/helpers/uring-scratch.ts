// Why: the loader's tests that need io_uring skip their whole file, saying why, where
// this kernel or sandbox has none, and otherwise share a scratch directory removed when
// the file's tests end. The addon's test hooks (the ring probe, XXH64, the engine's
// block format and the final pass's read plan; see the end of src/native/uring_engine.cc)
// are typed here, not in src/load/native.ts: a run never calls them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { addonPart } from '../../src/native-loader.js';

export interface EngineTestHooks {
  /** 0 if a ring can be set up here, else -errno of io_uring_queue_init. */
  uringProbe(): number;
  uringXxh64(buf: Uint8Array, seed?: number | bigint): string;
  /** The block the engine would write at `offset` in generation `gen`. */
  uringFormatBlock(bs: number, seed: number, offset: number, gen: number): Buffer;
  /**
   * The final pass's reads over a record of {acked, issued} pairs (src/native/verify_plan.h):
   * [first, count, first, count, ...].
   */
  uringPlanReads(records: Uint32Array, maxBlocks: number, maxGap: number): Float64Array;
}

export const engineTestHooks = (): EngineTestHooks =>
  addonPart<EngineTestHooks>('io_uring engine test hooks', ['uringProbe', 'uringXxh64', 'uringFormatBlock', 'uringPlanReads']);

/** Why io_uring cannot be used here (addon missing, io_uring_queue_init failing), or undefined. */
export function uringUnavailable(): string | undefined {
  let r: number;
  try {
    r = engineTestHooks().uringProbe();
  } catch (e) {
    return (e as Error).message;
  }
  return r < 0 ? `io_uring unavailable: io_uring_queue_init returned ${r}` : undefined;
}

/** A scratch directory named `prefix`..., or undefined after planning the file as skipped. */
export function uringScratchDir(prefix: string): string | undefined {
  const why = uringUnavailable();
  if (why !== undefined) {
    t.plan(0, `skip: ${why}`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
