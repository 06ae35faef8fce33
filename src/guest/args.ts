// Argument checks for agent operations. No schema library: the agent starts in a TCG
// guest, where loading zod takes seconds, and these are a handful of plain checks.
type Args = Record<string, unknown>;

/** A bad argument: EINVAL on the wire, naming the operation's argument. */
export function badArg(key: string, want: string, got: unknown): Error {
  const seen = got === undefined ? 'nothing' : got === null ? 'null' : Array.isArray(got) ? 'an array' : `a ${typeof got}`;
  return Object.assign(new Error(`argument ${key}: expected ${want}, got ${seen}`), { code: 'EINVAL' });
}

/** A string; non-empty unless `empty` is true. */
export function str(a: Args, key: string, o: { empty?: boolean } = {}): string {
  const v = a[key];
  if (typeof v !== 'string' || (!o.empty && v.length === 0)) throw badArg(key, o.empty ? 'a string' : 'a non-empty string', v);
  return v;
}

export function optStr(a: Args, key: string): string | undefined {
  return a[key] === undefined ? undefined : str(a, key, { empty: true });
}

export function optBool(a: Args, key: string): boolean | undefined {
  const v = a[key];
  if (v !== undefined && typeof v !== 'boolean') throw badArg(key, 'a boolean', v);
  return v;
}

export function bool(a: Args, key: string): boolean {
  const v = optBool(a, key);
  if (v === undefined) throw badArg(key, 'a boolean', v);
  return v;
}

/** An integer in [min, max]. */
export function optInt(a: Args, key: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = a[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw badArg(key, `an integer from ${min} to ${max}`, v);
  return v;
}

export function int(a: Args, key: string, min?: number, max?: number): number {
  const v = optInt(a, key, min, max);
  if (v === undefined) throw badArg(key, 'an integer', v);
  return v;
}

export function oneOf<T extends string>(a: Args, key: string, values: readonly T[]): T {
  const v = a[key];
  if (!(values as readonly unknown[]).includes(v)) throw badArg(key, `one of ${values.join('|')}`, v);
  return v as T;
}

/** A non-empty array of strings. */
export function strings(a: Args, key: string): string[] {
  const v = a[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) throw badArg(key, 'a non-empty array of strings', v);
  return v;
}

/** An object whose values are all strings (an environment). */
export function optStringMap(a: Args, key: string): Record<string, string> | undefined {
  const v = a[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string'))
    throw badArg(key, 'an object of strings', v);
  return v as Record<string, string>;
}
