// The runner's own `load` command line, read without commander. The runner starts
// `load --job <json> --progress-file F --json --compact` in the host VM for every run (it
// used to add --save-state F, still read here), under TCG, where each module costs:
// commander took about a quarter of the loader's module loading there. Only that form is
// read here (each option once, nothing else); any other command line, help and typos included, goes through
// commander as before, so its help and errors do not change.
import type { LoadCliOptions } from './load-command.js';

/** Options that take a value, and the field they set. */
const VALUED = { '--job': 'job', '--save-state': 'saveState', '--progress-file': 'progressFile', '--state': 'state' } as const;

const isValued = (a: string): a is keyof typeof VALUED => Object.hasOwn(VALUED, a);

/** The options of `load --job ...` in the runner's form (args without node and the script), or undefined. */
export function runnerLoadOptions(args: readonly string[]): LoadCliOptions | undefined {
  if (args[0] !== 'load') return undefined;
  const o: LoadCliOptions = {};
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json' && o.json === undefined) {
      o.json = true;
      continue;
    }
    if (a === '--compact' && o.compact === undefined) {
      o.compact = true;
      continue;
    }
    if (!isValued(a)) return undefined;
    const v = args[i + 1];
    const field = VALUED[a];
    if (v === undefined || v.startsWith('-') || o[field] !== undefined) return undefined;
    o[field] = v;
    i++;
  }
  return o.job === undefined ? undefined : o;
}
