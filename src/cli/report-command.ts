// `reset-bench report DIR` and `reset-bench merge OUT DIR...`: every output rebuilt from
// results.json (version 2, or version 1 from an older reset-bench: read, and written
// back as version 2 by `merge`; `report` leaves results.json as it is).
import path from 'node:path';
import type { Command } from 'commander';
import { checkOrigin } from '../report/kcidb.js';
import { mergeResults, readResultsJson, resolveResultsFile, type Shard } from '../report/results-json.js';
import { writeReport } from '../report/write-all.js';

/** Rebuilds report.html, results.tap, junit.xml and kcidb.json from DIR/results.json. */
export async function reportCommand(dir: string, opts: { kcidbOrigin?: string } = {}): Promise<string[]> {
  const results = await readResultsJson(dir);
  const file = await resolveResultsFile(dir);
  const { files } = await writeReport(path.dirname(file), results, { skipResultsJson: true, kcidbOrigin: opts.kcidbOrigin });
  return files;
}

/** Merges the results of several shard directories (or results.json files) into OUT. */
export async function mergeCommand(out: string, inputs: string[], opts: { kcidbOrigin?: string } = {}): Promise<string[]> {
  if (opts.kcidbOrigin !== undefined) checkOrigin(opts.kcidbOrigin);
  const shards: Shard[] = [];
  for (const input of inputs) {
    const file = await resolveResultsFile(input);
    shards.push({ source: file, dir: path.dirname(file), results: await readResultsJson(file) });
  }
  const merged = mergeResults(shards, { outDir: out });
  const { files } = await writeReport(out, merged, { kcidbOrigin: opts.kcidbOrigin });
  return files;
}

const ORIGIN_HELP = 'KCIDB origin of kcidb.json ([a-z0-9_]+; default reset_bench)';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('rebuild report.html, results.tap, junit.xml and kcidb.json from DIR/results.json')
    .argument('<dir>', 'results directory (or a results.json file)')
    .option('--kcidb-origin <origin>', ORIGIN_HELP)
    .action(async (dir: string, o: { kcidbOrigin?: string }) => {
      for (const f of await reportCommand(dir, o)) process.stdout.write(`${f}\n`);
    });
  program
    .command('merge')
    .description('merge the results of --shard I/N runs into OUT and write every report there')
    .argument('<out>', 'output results directory')
    .argument('<dirs...>', 'shard results directories (or results.json files)')
    .option('--kcidb-origin <origin>', ORIGIN_HELP)
    .action(async (out: string, dirs: string[], o: { kcidbOrigin?: string }) => {
      for (const f of await mergeCommand(out, dirs, o)) process.stdout.write(`${f}\n`);
    });
}
