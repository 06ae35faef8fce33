// `reset-bench report DIR` and `reset-bench merge OUT DIR...`.
import path from 'node:path';
import type { Command } from 'commander';
import { mergeResults, readResultsJson, resolveResultsFile, type Shard } from '../report/results-json.js';
import { writeReport } from '../report/write-all.js';

/** Rebuilds report.html, results.tap, junit.xml and kcidb.json from DIR/results.json. */
export async function reportCommand(dir: string): Promise<string[]> {
  const results = await readResultsJson(dir);
  const file = await resolveResultsFile(dir);
  const { files } = await writeReport(path.dirname(file), results, { skipResultsJson: true });
  return files;
}

/** Merges the results of several shard directories (or results.json files) into OUT. */
export async function mergeCommand(out: string, inputs: string[]): Promise<string[]> {
  const shards: Shard[] = [];
  for (const input of inputs) {
    const file = await resolveResultsFile(input);
    shards.push({ source: file, dir: path.dirname(file), results: await readResultsJson(file) });
  }
  const merged = mergeResults(shards, { outDir: out });
  const { files } = await writeReport(out, merged);
  return files;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('rebuild report.html, results.tap, junit.xml and kcidb.json from DIR/results.json')
    .argument('<dir>', 'results directory (or a results.json file)')
    .action(async (dir: string) => {
      for (const f of await reportCommand(dir)) process.stdout.write(`${f}\n`);
    });
  program
    .command('merge')
    .description('merge the results of --shard I/N runs into OUT and write every report there')
    .argument('<out>', 'output results directory')
    .argument('<dirs...>', 'shard results directories (or results.json files)')
    .action(async (out: string, dirs: string[]) => {
      for (const f of await mergeCommand(out, dirs)) process.stdout.write(`${f}\n`);
    });
}
