// A patch series directory (kernel-patches/<base>/): its `series` file lists, one per
// line, a patch file or a set (a directory holding one git format-patch series whose
// NNNN-*.patch files, not the 0000 cover letter, apply in name order); '#' comments.
// The same rules as kernel-patches/series.sh, which check.sh and build-each.sh use.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UsageError } from '../util/errors.js';

export interface SeriesEntry {
  /** The entry as written. */
  entry: string;
  /** 1-based line in the series file. */
  line: number;
}

export interface SeriesPatch {
  /** Path relative to the series directory, e.g. "rxe/0001-RDMA-rxe-....patch". */
  name: string;
  path: string;
}

/** The entries of a series file: comments and blank lines dropped. */
export function parseSeriesFile(text: string): SeriesEntry[] {
  const out: SeriesEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const entry = raw.replace(/#.*$/, '').trim();
    if (entry) out.push({ entry, line: i + 1 });
  });
  return out;
}

/** A set's patches in name order: NNNN-*.patch without the 0000 cover letter. */
export function setPatchNames(files: string[]): string[] {
  return files.filter((f) => /^\d{4}-.*\.patch$/.test(f) && !f.startsWith('0000-')).sort();
}

/**
 * Every patch of the series, in order. A missing series file, an entry that is not
 * there, or a set with no patches yet is a UsageError naming the line and the fix.
 */
export async function seriesPatches(dir: string): Promise<SeriesPatch[]> {
  const file = join(dir, 'series');
  if (!existsSync(file)) {
    throw new UsageError(`no series file in ${dir}: list the patches (or sets) to apply there, one per line`, file);
  }
  return listedPatches(dir, file);
}

/**
 * The lab patches (the `lab` file, same format): fixes to the lab's own emulated
 * hardware (rdma_rxe) that every variant built from source applies, stock included, so
 * that stock and patched differ only in what is compared. None without the file. Each
 * must also be in the series, in the same order, or patched would lack a fix stock has.
 */
export async function labPatches(dir: string): Promise<SeriesPatch[]> {
  const file = join(dir, 'lab');
  if (!existsSync(file)) return [];
  const lab = await listedPatches(dir, file);
  const series = (await seriesPatches(dir)).map((p) => p.name);
  const missing = lab.find((p) => !series.includes(p.name));
  if (missing) throw new UsageError(`lab patch ${missing.name} is not in ${join(dir, 'series')}: add its set there too`, file);
  const order = lab.map((p) => series.indexOf(p.name));
  if (order.some((i, k) => k > 0 && i < order[k - 1]!)) throw new UsageError('lab patches must be listed in the order the series applies them', file);
  return lab;
}

async function listedPatches(dir: string, file: string): Promise<SeriesPatch[]> {
  const out: SeriesPatch[] = [];
  for (const { entry, line } of parseSeriesFile(await readFile(file, 'utf8'))) {
    const where = `${file}:${line}`;
    const path = join(dir, entry);
    if (!existsSync(path)) throw new UsageError(`'${entry}' is neither a patch file nor a set directory in ${dir}`, where);
    if (!statSync(path).isDirectory()) {
      out.push({ name: entry, path });
      continue;
    }
    const names = setPatchNames(await readdir(path));
    if (names.length === 0) {
      throw new UsageError(`set '${entry}' has no patches yet (${path} holds no NNNN-*.patch besides a cover letter)`, where);
    }
    for (const n of names) out.push({ name: relative(dir, join(path, n)), path: join(path, n) });
  }
  return out;
}

/**
 * KCIDB's patchset_hash of the applied patches: the sha256 of each patch, in order, as
 * hex lines, hashed again with sha256; "" for none. Recorded with every run.
 */
export async function patchsetHash(patches: SeriesPatch[]): Promise<string> {
  if (patches.length === 0) return '';
  const h = createHash('sha256');
  for (const p of patches) h.update(`${createHash('sha256').update(await readFile(p.path)).digest('hex')}\n`);
  return h.digest('hex');
}

/** Files a patch touches (its "+++ b/..." lines; diff -u puts a timestamp after a tab). */
export function patchedFiles(patchText: string): string[] {
  const files = new Set<string>();
  for (const l of patchText.split('\n')) {
    const m = /^\+\+\+ b\/([^\t\s]+)/.exec(l);
    if (m) files.add(m[1]!);
  }
  return [...files];
}
