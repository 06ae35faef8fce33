// The agent channel's wire format without a schema library: what the agent needs to
// say "ready" and answer (loading zod costs seconds in a TCG guest). protocol.ts adds
// the zod schemas the host side validates with and re-exports all of this.
import { inspect } from 'node:util';
import { AGENT_DEADLINE_MAX_MS } from '../util/timeouts.js';

/** One request from the host: the agent answers it once. */
export interface Request {
  id: number;
  op: string;
  args: Record<string, unknown>;
  /** How long the agent may take, in ms; it answers ETIMEDOUT after that. */
  deadlineMs: number;
}

export interface WireError {
  message: string;
  code?: string;
  errno?: number;
  path?: string;
  syscall?: string;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Checks a request as protocol.ts's Request schema does; throws saying what is wrong. */
export function parseRequest(v: unknown): Request {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('request: expected an object');
  const r = v as Record<string, unknown>;
  if (!isInt(r.id) || r.id < 0) throw new TypeError('request id: expected a non-negative integer');
  if (typeof r.op !== 'string' || r.op.length === 0) throw new TypeError('request op: expected a non-empty string');
  const args = r.args === undefined ? {} : r.args;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new TypeError('request args: expected an object');
  if (!isInt(r.deadlineMs) || r.deadlineMs <= 0 || r.deadlineMs > AGENT_DEADLINE_MAX_MS)
    throw new TypeError(`request deadlineMs: expected an integer from 1 to ${AGENT_DEADLINE_MAX_MS}`);
  return { id: r.id, op: r.op, args: args as Record<string, unknown>, deadlineMs: r.deadlineMs };
}

/** Splits a byte stream into lines; keeps a partial line until its newline arrives. */
export class LineDecoder {
  private rest = '';
  constructor(private readonly maxLine = 64 * 1024 * 1024) {}

  push(chunk: Buffer | string): string[] {
    this.rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const lines = this.rest.split('\n');
    this.rest = lines.pop()!;
    if (this.rest.length > this.maxLine) throw new Error(`agent line longer than ${this.maxLine} bytes`);
    return lines.filter((l) => l.length > 0);
  }
}

/** One JSON line; bigints (netlink u64 fields) travel as decimal strings. */
export const encode = (msg: unknown): string =>
  `${JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;

/** Turns a Node error into the wire form: errno, code and path survive the trip. */
export function toWireError(err: unknown): WireError {
  if (err && typeof err === 'object') {
    const e = err as { message?: unknown; code?: unknown; errno?: unknown; path?: unknown; syscall?: unknown };
    return {
      message: typeof e.message === 'string' ? e.message : inspect(err, { breakLength: Infinity }),
      code: typeof e.code === 'string' ? e.code : undefined,
      errno: typeof e.errno === 'number' ? e.errno : undefined,
      path: typeof e.path === 'string' ? e.path : undefined,
      syscall: typeof e.syscall === 'string' ? e.syscall : undefined,
    };
  }
  return { message: String(err) };
}

/** The kmsg record format of /dev/kmsg: "prio,seq,usec,flags;text". */
export interface KmsgRecord {
  level: number;
  seq: number;
  usec: number;
  text: string;
}

export function parseKmsg(record: string): KmsgRecord | undefined {
  const semi = record.indexOf(';');
  if (semi < 0) return undefined;
  const [prio, seq, usec] = record.slice(0, semi).split(',');
  const text = record
    .slice(semi + 1)
    .split('\n')[0]!
    .replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  if (prio === undefined || seq === undefined || usec === undefined) return undefined;
  return { level: Number(prio) & 7, seq: Number(seq), usec: Number(usec), text };
}
