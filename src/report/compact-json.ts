// JSON text that a person can read and that stays small: objects indented one key per
// line, but arrays of numbers or strings and "flat" objects (no nested values) on one
// line. A 3000-entry I/O column is one line, not 3000.
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object';
const isFlatObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isScalar);

function inline(v: unknown): string {
  return JSON.stringify(v);
}

function format(v: unknown, indent: string): string {
  if (isScalar(v)) return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every(isScalar)) return inline(v);
    return `[\n${v.map((x) => inner + (isFlatObject(x) ? inline(x) : format(x, inner))).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${format(x, inner)}`).join(',\n')}\n${indent}}`;
}

/** Newline-terminated compact-but-readable JSON; JSON.parse gives the value back. */
export function compactJson(value: Json | object): string {
  return `${format(value, '')}\n`;
}
