// Loader vs fio --ioengine=io_uring on the same target, bs, iodepth and runtime.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { HarnessError } from '../util/errors.js';
import { runLoad } from './run.js';

const pexec = promisify(execFile);

export type BenchRw = 'randread' | 'randwrite';

export interface BenchOptions {
  filename: string;
  bs?: number;
  iodepth?: number;
  runtimeMs?: number;
  /** bytes of the target used (default 1 GiB for files, the whole device otherwise) */
  size?: number;
  offset?: number;
  cases?: BenchRw[];
  /** alternating fio/loader runs per case (default 2) */
  repeats?: number;
  direct?: boolean;
  fio?: string;
  /** extra fio options, e.g. ['--fixedbufs=1', '--registerfiles=1'] */
  fioArgs?: string[];
  log?: (line: string) => void;
}

export interface BenchCase {
  rw: BenchRw;
  bs: number;
  iodepth: number;
  fioIops: number;
  loaderIops: number;
  ratio: number;
  fioRuns: number[];
  loaderRuns: number[];
}

export interface BenchResult {
  filename: string;
  runtimeMs: number;
  cases: BenchCase[];
  ratioMin: number;
}

const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);

/** Runs fio once and returns its IOPS for the direction of rw. */
export async function fioIops(o: {
  fio?: string;
  filename: string;
  rw: BenchRw;
  bs: number;
  iodepth: number;
  runtimeMs: number;
  size: number;
  offset: number;
  direct: boolean;
  extra?: string[];
}): Promise<number> {
  const args = [
    '--name=bench',
    `--filename=${o.filename}`,
    '--ioengine=io_uring',
    `--direct=${o.direct ? 1 : 0}`,
    `--rw=${o.rw}`,
    `--bs=${o.bs}`,
    `--iodepth=${o.iodepth}`,
    `--size=${o.size}`,
    `--offset=${o.offset}`,
    `--runtime=${Math.max(1, Math.round(o.runtimeMs))}ms`,
    '--time_based',
    '--output-format=json',
    ...(o.extra ?? []),
  ];
  let stdout: string;
  try {
    ({ stdout } = await pexec(o.fio ?? 'fio', args, { maxBuffer: 64 * 1024 * 1024 }));
  } catch (e) {
    throw new HarnessError(`fio failed: ${(e as Error).message}`, { cause: e });
  }
  const j = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
    jobs: { read: { iops: number }; write: { iops: number }; error: number }[];
  };
  const job = j.jobs[0]!;
  if (job.error) throw new HarnessError(`fio job error ${job.error}`);
  return o.rw === 'randread' ? job.read.iops : job.write.iops;
}

/** Compares the loader with fio per case; ratio = mean loader IOPS / mean fio IOPS. */
export async function runLoaderBench(o: BenchOptions): Promise<BenchResult> {
  const bs = o.bs ?? 4096;
  const iodepth = o.iodepth ?? 32;
  const runtimeMs = o.runtimeMs ?? 10_000;
  const offset = o.offset ?? 0;
  const direct = o.direct ?? true;
  const repeats = o.repeats ?? 2;
  const cases = o.cases ?? ['randread', 'randwrite'];
  const log = o.log ?? (() => {});
  let isFile = true;
  let curSize = 0;
  try {
    const st = statSync(o.filename);
    isFile = st.isFile();
    curSize = st.size;
  } catch {
    /* created below */
  }
  const size = o.size ?? (isFile ? 1024 ** 3 : 0);
  if (isFile && curSize < offset + size) {
    // lay the file out first (both tools then read real, allocated blocks)
    log(`laying out ${o.filename} (${size} bytes)`);
    await runLoad({ filename: o.filename, rw: 'write', bs: 1024 * 1024, iodepth: 4, offset, size, direct });
  }
  const out: BenchCase[] = [];
  for (const rw of cases) {
    const fioRuns: number[] = [];
    const loaderRuns: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const runFio = async (): Promise<void> => {
        const v = await fioIops({ fio: o.fio, filename: o.filename, rw, bs, iodepth, runtimeMs, size: size || (await deviceSize(o.filename)) - offset, offset, direct, extra: o.fioArgs });
        fioRuns.push(v);
        log(`${rw} fio run ${i + 1}: ${v.toFixed(0)} IOPS`);
      };
      const runOurs = async (): Promise<void> => {
        const r = await runLoad({ filename: o.filename, rw, bs, iodepth, runtimeMs, offset, size, direct, seed: i + 1 });
        const v = rw === 'randread' ? r.read.iops : r.write.iops;
        loaderRuns.push(v);
        log(`${rw} loader run ${i + 1}: ${v.toFixed(0)} IOPS`);
      };
      // alternate who goes first, so drift (caches, thermal) does not favour one side
      if (i % 2 === 0) {
        await runFio();
        await runOurs();
      } else {
        await runOurs();
        await runFio();
      }
    }
    const f = mean(fioRuns);
    const l = mean(loaderRuns);
    out.push({ rw, bs, iodepth, fioIops: f, loaderIops: l, ratio: f > 0 ? l / f : 0, fioRuns, loaderRuns });
  }
  return { filename: o.filename, runtimeMs, cases: out, ratioMin: Math.min(...out.map((c) => c.ratio)) };
}

async function deviceSize(filename: string): Promise<number> {
  const { stdout } = await pexec('blockdev', ['--getsize64', filename]);
  return Number(stdout.trim());
}

/** Per-case lines, then the CONTRACT last line `ratio_min=<x>`. */
export function formatBench(r: BenchResult): string[] {
  const lines = r.cases.map(
    (c) =>
      `${c.rw} bs=${c.bs} iodepth=${c.iodepth} runtime=${r.runtimeMs}ms target=${r.filename}: fio=${c.fioIops.toFixed(0)} loader=${c.loaderIops.toFixed(0)} ratio=${c.ratio.toFixed(3)}`,
  );
  lines.push(`ratio_min=${r.ratioMin.toFixed(3)}`);
  return lines;
}
