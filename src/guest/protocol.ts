// The agent channel: JSON lines over virtio-serial. The host sends requests, the
// agent answers each once and also sends events (ready, kmsg, ...). Shared by both ends;
// the agent itself uses only wire.ts (no zod).
import { z } from 'zod';
import type { KmsgRecord, Request as WireRequest, WireError as WireErrorShape } from './wire.js';

export { LineDecoder, encode, toWireError, parseKmsg, parseRequest } from './wire.js';
export type { KmsgRecord };

export const Request = z.object({
  id: z.number().int().nonnegative(),
  op: z.string().min(1),
  args: z.record(z.string(), z.unknown()).default({}),
  /** How long the agent may take, in ms; it answers ETIMEDOUT after that. */
  deadlineMs: z.number().int().positive().max(3_600_000),
});
export type Request = WireRequest;

export const WireError = z.object({
  message: z.string(),
  code: z.string().optional(),
  errno: z.number().optional(),
  path: z.string().optional(),
  syscall: z.string().optional(),
});
export type WireError = WireErrorShape;

export const Response = z.union([
  z.object({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number(), ok: z.literal(false), error: WireError }),
]);
export type Response = z.infer<typeof Response>;

export const Event = z.object({ event: z.string(), data: z.unknown() });
export type Event = z.infer<typeof Event>;

export const Message = z.union([Response, Event]);
