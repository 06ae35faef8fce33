// The agent channel: JSON lines over virtio-serial. The host sends requests, the
// agent answers each once and also sends events (ready, kmsg, ...). Shared by both ends.
import { z } from 'zod';

export const Request = z.object({
  id: z.number().int().nonnegative(),
  op: z.string().min(1),
  args: z.record(z.string(), z.unknown()).default({}),
  /** How long the agent may take, in ms; it answers ETIMEDOUT after that. */
  deadlineMs: z.number().int().positive().max(3_600_000),
});
export type Request = z.infer<typeof Request>;

export const WireError = z.object({
  message: z.string(),
  code: z.string().optional(),
  errno: z.number().optional(),
  path: z.string().optional(),
  syscall: z.string().optional(),
});
export type WireError = z.infer<typeof WireError>;

export const Response = z.union([
  z.object({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number(), ok: z.literal(false), error: WireError }),
]);
export type Response = z.infer<typeof Response>;

export const Event = z.object({ event: z.string(), data: z.unknown() });
export type Event = z.infer<typeof Event>;

export const Message = z.union([Response, Event]);

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
      message: String(e.message ?? err),
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
