// Small field parsers for the job spec, with the messages zod gave for the same checks.
// (zod costs seconds to load in a TCG guest; the loader needs a handful of checks.)

/** A bad value; the caller adds the field's name. */
export class FieldIssue extends Error {
  /** The type name zod's messages use: NaN, Infinity, null, array, a class name, typeof. */
  static typeName(v: unknown): string {
    if (typeof v === 'number') return Number.isFinite(v) ? 'number' : String(v);
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'array';
    if (typeof v === 'object') {
      const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
      if (proto && proto !== Object.prototype && proto.constructor?.name) return proto.constructor.name;
    }
    return typeof v;
  }

  static expected(type: string, v: unknown): FieldIssue {
    return new FieldIssue(`Invalid input: expected ${type}, received ${FieldIssue.typeName(v)}`);
  }
}

export type Parser<T> = (v: unknown) => T;

/** A finite number or a string, for `parse` (sizes and durations): "Invalid input" otherwise. */
export const numberOrString =
  <T>(parse: (v: number | string) => T): Parser<T> =>
  (v) => {
    if (typeof v === 'number' ? !Number.isFinite(v) : typeof v !== 'string') throw new FieldIssue('Invalid input');
    try {
      return parse(v as number | string);
    } catch (e) {
      throw new FieldIssue((e as Error).message);
    }
  };

/** A string, at least one character long (`emptyMessage` otherwise). */
export const str =
  (emptyMessage: string): Parser<string> =>
  (v) => {
    if (typeof v !== 'string') throw FieldIssue.expected('string', v);
    if (v.length < 1) throw new FieldIssue(emptyMessage);
    return v;
  };

export const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (v) => {
    if (!(values as readonly unknown[]).includes(v))
      throw new FieldIssue(`Invalid option: expected one of ${values.map((x) => JSON.stringify(x)).join('|')}`);
    return v as T;
  };

export const bool: Parser<boolean> = (v) => {
  if (typeof v !== 'boolean') throw FieldIssue.expected('boolean', v);
  return v;
};

/** A finite number; `int` means a safe integer. */
export const num =
  (o: { int?: boolean; min?: number; max?: number }): Parser<number> =>
  (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw FieldIssue.expected('number', v);
    if (o.int) {
      if (!Number.isInteger(v)) throw FieldIssue.expected('int', v);
      if (v > Number.MAX_SAFE_INTEGER) throw new FieldIssue(`Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`);
      if (v < Number.MIN_SAFE_INTEGER) throw new FieldIssue(`Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`);
    }
    if (o.min !== undefined && v < o.min) throw new FieldIssue(`Too small: expected number to be >=${o.min}`);
    if (o.max !== undefined && v > o.max) throw new FieldIssue(`Too big: expected number to be <=${o.max}`);
    return v;
  };

export const custom =
  <T>(test: (v: unknown) => v is T, message: string): Parser<T> =>
  (v) => {
    if (!test(v)) throw new FieldIssue(message);
    return v;
  };
