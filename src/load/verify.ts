// The verify record ("state") and the separate final verify pass: write, reset, then verify.
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from '../util/errors.js';

/** Layout of the engine's state buffer (see src/native/uring_engine.cc, STATE FORMAT). */
export const STATE_MAGIC = 0x54534252;
export const STATE_HEADER_BYTES = 64;

export interface StateInfo {
  bs: number;
  seed: number;
  offset: number;
  size: number;
  nblocks: number;
}

/** Reads the header of a state buffer; throws UsageError if it is not one. */
export function decodeStateHeader(buf: Uint8Array): StateInfo {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < STATE_HEADER_BYTES || v.getUint32(0, true) !== STATE_MAGIC || v.getUint32(4, true) !== 1)
    throw new UsageError('not a reset-bench verify state', 'state');
  const info: StateInfo = {
    bs: v.getUint32(8, true),
    seed: Number(v.getBigUint64(16, true)),
    offset: Number(v.getBigUint64(24, true)),
    size: Number(v.getBigUint64(32, true)),
    nblocks: Number(v.getBigUint64(40, true)),
  };
  if (buf.byteLength !== STATE_HEADER_BYTES + info.nblocks * 8) throw new UsageError('truncated verify state', 'state');
  return info;
}

/** The record of block i: last acknowledged and last issued generation (0: none). */
export function blockRecord(buf: Uint8Array, i: number): { acked: number; issued: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const o = STATE_HEADER_BYTES + i * 8;
  return { acked: v.getUint32(o, true), issued: v.getUint32(o + 4, true) };
}

/** Counts blocks with an acknowledged write, and blocks whose last write was not acknowledged. */
export function stateCounts(buf: Uint8Array): { written: number; unacked: number } {
  const info = decodeStateHeader(buf);
  let written = 0,
    unacked = 0;
  for (let i = 0; i < info.nblocks; i++) {
    const r = blockRecord(buf, i);
    if (r.acked) written++;
    if (r.issued > r.acked) unacked++;
  }
  return { written, unacked };
}

export async function saveState(path: string, state: Uint8Array): Promise<void> {
  await writeFile(path, state);
}

export async function loadState(path: string): Promise<Buffer> {
  const b = await readFile(path);
  decodeStateHeader(b);
  return b;
}
