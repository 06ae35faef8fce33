// Applies a series' patches, in order, to a tree (module-build's staged directories or
// debug-build's whole source): the one place that runs patch(1) and says which patch
// does not apply to which source.
import { execa } from 'execa';
import { UsageError } from '../util/errors.js';
import type { SeriesPatch } from './series.js';

export async function applyPatches(opts: {
  tree: string;
  patches: SeriesPatch[];
  /** What the tree is, for the error: e.g. "linux-source 6.12.117-1~deb12u1". */
  source: string;
  /** The series directory's name as the user knows it, e.g. "kernel-patches/6.12". */
  seriesLabel: string;
  say?: (m: string) => void;
}): Promise<void> {
  for (const p of opts.patches) {
    opts.say?.(`applying ${p.name}`);
    const r = await execa('patch', ['-p1', '--batch', '--forward', '--no-backup-if-mismatch', '-d', opts.tree, '-i', p.path], {
      reject: false,
    });
    if (r.exitCode !== 0) {
      throw new UsageError(
        `does not apply to ${opts.source}:\n${String(r.stdout)}${String(r.stderr)}\nrebase the series onto that source`,
        `${opts.seriesLabel}/${p.name}`,
      );
    }
  }
}
