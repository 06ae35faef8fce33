// The exact Debian kernel of each series, pinned in kernel-pins.json at the project root,
// so that every machine and every result uses the same packages (a fresh fetch once got
// 6.1.192-3 while every result in the READMEs came from 6.1.192-2, and nothing said so).
// `kernel fetch` uses the pin; `kernel update` moves it (debian.ts finds the newest).
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../util/errors.js';
import { describeIssues } from '../util/zod-issues.js';

export const SERIES_RE = /^\d+\.\d+$/;

export const Pin = z.object({
  /** The meta package that names the newest image of the series, e.g. linux-image-6.12-amd64. */
  meta: z.string().regex(/^linux-image-[a-z0-9.+-]+$/),
  /** The image's exact Debian version, e.g. 6.12.117-1~deb12u1. */
  version: z.string().min(1),
  /** The ABI (uname -r), e.g. 6.12.117+deb12-amd64. */
  abi: z.string().regex(/-amd64$/),
  /** Every package fetched, with its exact version (kbuild may trail or lead the image). */
  packages: z.record(z.string(), z.string()),
});
export type Pin = z.infer<typeof Pin>;

export const Pins = z
  .object({
    default: z.string().regex(SERIES_RE),
    series: z.record(z.string().regex(SERIES_RE), Pin),
  })
  .refine((p) => p.series[p.default] !== undefined, { message: 'default names a series that has no pin', path: ['default'] });
export type Pins = z.infer<typeof Pins>;

/** The pins file: --pins, else $RESET_BENCH_PINS, else <project>/kernel-pins.json. */
export function pinsFile(project: string, flag?: string): string {
  if (flag) return resolve(flag);
  if (process.env.RESET_BENCH_PINS) return resolve(process.env.RESET_BENCH_PINS);
  return join(project, 'kernel-pins.json');
}

export async function readPins(file: string): Promise<Pins> {
  if (!existsSync(file)) throw new UsageError(`no pins file ${file}: it names the exact kernel of each series`, '--pins');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file} is not JSON: ${(e as Error).message}`, '--pins');
  }
  const r = Pins.safeParse(raw);
  if (!r.success) {
    throw new UsageError(describeIssues(r.error), file);
  }
  return r.data;
}

export async function writePins(file: string, pins: Pins): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(pins, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/** The series to use: the given one, else the file's default; unknown ones are a usage error. */
export function pickSeries(pins: Pins, series: string | undefined, field = '--series'): { series: string; pin: Pin } {
  const s = series ?? pins.default;
  const pin = pins.series[s];
  if (!pin) throw new UsageError(`no pinned kernel for series ${JSON.stringify(s)}; pinned: ${Object.keys(pins.series).join(', ')}`, field);
  return { series: s, pin };
}

/** What moved between two pins of a series, one line each; empty when nothing did. */
export function pinChanges(before: Pin | undefined, after: Pin): string[] {
  if (!before) return [`new pin ${after.version} (${after.abi})`];
  const out: string[] = [];
  if (before.version !== after.version || before.abi !== after.abi) {
    out.push(`${before.version} (${before.abi}) -> ${after.version} (${after.abi})`);
  }
  const names = new Set([...Object.keys(before.packages), ...Object.keys(after.packages)]);
  for (const n of [...names].sort()) {
    const a = before.packages[n];
    const b = after.packages[n];
    if (a === b) continue;
    out.push(`  ${n}: ${a ?? '(none)'} -> ${b ?? '(dropped)'}`);
  }
  return out;
}
