// The verify record ("state") and the separate final verify pass: write, reset, then verify.
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from '../util/errors.js';
import { loaderLimits } from './limits.js';

/** Layout of the engine's state buffer: see src/native/uring_engine.cc, STATE FORMAT. */
export interface StateInfo {
  bs: number;
  seed: number;
  offset: number;
  size: number;
  nblocks: number;
}

const corrupt = (what: string): UsageError => new UsageError(`corrupt verify state: ${what}`, 'state');

/**
 * Reads and checks the header of a state buffer: the same checks as the engine's
 * CheckState (the block count against size/bs and against the buffer's length), so a
 * corrupt or truncated file is a UsageError naming what is wrong, never a bad read.
 */
export function decodeStateHeader(buf: Uint8Array): StateInfo {
  const L = loaderLimits();
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < L.stateHeaderBytes)
    throw new UsageError(`truncated verify state: ${buf.byteLength} bytes, shorter than the ${L.stateHeaderBytes}-byte header`, 'state');
  if (v.getUint32(0, true) !== L.stateMagic || v.getUint32(4, true) !== L.stateVersion)
    throw new UsageError('not a reset-bench verify state', 'state');
  const u64 = (o: number, name: string): number => {
    const x = v.getBigUint64(o, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${name} ${x} is out of range`);
    return Number(x);
  };
  const info: StateInfo = { bs: v.getUint32(8, true), seed: u64(16, 'seed'), offset: u64(24, 'offset'), size: u64(32, 'size'), nblocks: u64(40, 'block count') };
  if (info.bs < L.bsMin || info.bs > L.bsMax || info.bs % L.bsAlign !== 0) throw corrupt(`block size ${info.bs}`);
  if (info.size === 0 || info.size % info.bs !== 0 || info.nblocks !== info.size / info.bs)
    throw corrupt(`size ${info.size} is not ${info.nblocks} blocks of ${info.bs} bytes`);
  if (info.nblocks > L.verifyBlocksMax) throw corrupt(`${info.nblocks} blocks (at most ${L.verifyBlocksMax})`);
  const want = L.stateHeaderBytes + info.nblocks * L.stateRecordBytes;
  if (buf.byteLength !== want)
    throw new UsageError(`truncated verify state: ${buf.byteLength} bytes, its header says ${want}`, 'state');
  return info;
}

/** Checks every record as the engine does: acked <= issued <= the last generation. */
export function checkStateRecords(buf: Uint8Array): void {
  const info = decodeStateHeader(buf);
  const max = loaderLimits().generationMax;
  for (let i = 0; i < info.nblocks; i++) {
    const { acked, issued } = blockRecord(buf, i);
    if (acked > issued || issued > max) throw corrupt(`record of block ${i} (acked ${acked}, issued ${issued})`);
  }
}

/** The record of block i: last acknowledged and last issued generation (0: none). */
export function blockRecord(buf: Uint8Array, i: number): { acked: number; issued: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const { stateHeaderBytes, stateRecordBytes } = loaderLimits();
  const o = stateHeaderBytes + i * stateRecordBytes;
  return { acked: v.getUint32(o, true), issued: v.getUint32(o + 4, true) };
}

export async function saveState(path: string, state: Uint8Array): Promise<void> {
  await writeFile(path, state);
}

export async function loadState(path: string): Promise<Buffer> {
  const b = await readFile(path);
  checkStateRecords(b);
  return b;
}
