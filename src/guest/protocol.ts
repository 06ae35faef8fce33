// The agent channel: JSON lines over virtio-serial. The host sends requests, the
// agent answers each once and also sends events (ready, kmsg, ...). This is the host's
// end: it validates what the agent sends with zod. The agent itself uses only wire.ts
// (no zod), whose parseRequest test/unit/protocol.test.ts checks against a zod schema.
import { z } from 'zod';
import type { KmsgRecord, WireError as WireErrorShape } from './wire.js';

export { LineDecoder, encode } from './wire.js';
export type { KmsgRecord };

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
