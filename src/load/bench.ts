// Loader vs fio --ioengine=io_uring on the same target, bs, iodepth and runtime.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { z } from 'zod';
import { HarnessError } from '../util/errors.js';
import { describeIssues } from '../util/zod-issues.js';
import { runLoad } from './run.js';
import { median } from '../util/percentile.js';

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
  /** run the loader with verify on (headers, checked reads; no final pass): its real-life cost */
  loaderVerify?: boolean;
}

export interface BenchCase {
  rw: BenchRw;
  bs: number;
  iodepth: number;
  /** mean IOPS over the runs */
  fioIops: number;
  loaderIops: number;
  /** median over the adjacent (fio, loader) run pairs of loader/fio IOPS: robust to drift */
  ratio: number;
  /** ratio of the means */
  meanRatio: number;
  fioRuns: number[];
  loaderRuns: number[];
  /** CPU time per I/O (user+sys, µs) of each tool, mean over runs: noise-robust efficiency */
  fioCpuUsPerIo: number;
  loaderCpuUsPerIo: number;
}

export interface BenchResult {
  filename: string;
  runtimeMs: number;
  cases: BenchCase[];
  ratioMin: number;
}

const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);

/** The part of fio's --output-format=json the bench reads: the first job's counts and CPU. */
const FioSide = z.object({ iops: z.number(), total_ios: z.number() });
const FioOutput = z.object({
  jobs: z.array(z.object({ read: FioSide, write: FioSide, error: z.number(), usr_cpu: z.number(), sys_cpu: z.number(), job_runtime: z.number() })).min(1),
});

/** fio's JSON (after any warning lines it printed first); HarnessError saying what is missing. */
function parseFio(stdout: string): z.infer<typeof FioOutput>['jobs'][number] {
  let data: unknown;
  try {
    data = JSON.parse(stdout.slice(stdout.indexOf('{')));
  } catch (e) {
    throw new HarnessError(`fio printed no JSON (${(e as Error).message}): ${stdout.slice(0, 200)}`);
  }
  const r = FioOutput.safeParse(data);
  if (!r.success) throw new HarnessError(`fio's JSON is not what the bench reads: ${describeIssues(r.error)}`);
  return r.data.jobs[0]!;
}

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
}): Promise<{ iops: number; cpuUsPerIo: number }> {
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
  const job = parseFio(stdout);
  if (job.error) throw new HarnessError(`fio job error ${job.error}`);
  const ios = job.read.total_ios + job.write.total_ios;
  const cpuUs = ((job.usr_cpu + job.sys_cpu) / 100) * job.job_runtime * 1000;
  return { iops: o.rw === 'randread' ? job.read.iops : job.write.iops, cpuUsPerIo: ios ? cpuUs / ios : 0 };
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
    const fioCpu: number[] = [];
    const loaderCpu: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const runFio = async (): Promise<void> => {
        const v = await fioIops({ fio: o.fio, filename: o.filename, rw, bs, iodepth, runtimeMs, size: size || (await deviceSize(o.filename)) - offset, offset, direct, extra: o.fioArgs });
        fioRuns.push(v.iops);
        fioCpu.push(v.cpuUsPerIo);
        log(`${rw} fio run ${i + 1}: ${v.iops.toFixed(0)} IOPS, ${v.cpuUsPerIo.toFixed(2)} µs CPU/IO`);
      };
      const runOurs = async (): Promise<void> => {
        const cpu0 = process.cpuUsage();
        const r = await runLoad({ filename: o.filename, rw, bs, iodepth, runtimeMs, offset, size, direct, seed: i + 1, verify: o.loaderVerify ?? false, finalVerify: false });
        const cpu = process.cpuUsage(cpu0);
        const v = rw === 'randread' ? r.read.iops : r.write.iops;
        const ios = r.read.ios + r.write.ios;
        const c = ios ? (cpu.user + cpu.system) / ios : 0;
        loaderRuns.push(v);
        loaderCpu.push(c);
        log(`${rw} loader run ${i + 1}: ${v.toFixed(0)} IOPS, ${c.toFixed(2)} µs CPU/IO`);
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
    const pairs = fioRuns.map((fv, k) => (fv > 0 ? loaderRuns[k]! / fv : 0));
    out.push({
      rw,
      bs,
      iodepth,
      fioIops: f,
      loaderIops: l,
      ratio: median(pairs) ?? 0,
      meanRatio: f > 0 ? l / f : 0,
      fioRuns,
      loaderRuns,
      fioCpuUsPerIo: mean(fioCpu),
      loaderCpuUsPerIo: mean(loaderCpu),
    });
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
      `${c.rw} bs=${c.bs} iodepth=${c.iodepth} runtime=${r.runtimeMs}ms target=${r.filename}: fio=${c.fioIops.toFixed(0)} loader=${c.loaderIops.toFixed(0)} ratio=${c.ratio.toFixed(3)} (mean ratio ${c.meanRatio.toFixed(3)}; CPU/IO fio=${c.fioCpuUsPerIo.toFixed(2)}us loader=${c.loaderCpuUsPerIo.toFixed(2)}us)`,
  );
  lines.push(`ratio_min=${r.ratioMin.toFixed(3)}`);
  return lines;
}
