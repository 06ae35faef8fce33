// Why: the module resolve hook behind import-trace.mjs (hooks run on their own thread).
import { appendFileSync } from 'node:fs';

let out;
export function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (out) appendFileSync(out, `${r.url}\n`);
  return r;
}
