// The nightly pipelines in docs/ci/ (GitHub Actions and GitLab CI), parsed as YAML: every
// shard job's `reset-bench run` command is expanded the way the CI system would, then
// planned with the CLI's own planRuns/parseShard, and together the shards must run every
// catalog scenario exactly once; each shard keeps its results and a merge job merges them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { parseShard, planRuns } from '../../src/cli/run-command.js';
import { CATALOG, findScenario } from '../../src/scenario/catalog.js';

const ciDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'ci');
const load = (name: string): Record<string, unknown> => parse(readFileSync(path.join(ciDir, name), 'utf8')) as Record<string, unknown>;
/** What `reset-bench list | cut -f1` prints. */
const LIST = CATALOG.map((s) => s.name).join(' ');

interface Planned {
  shard: string;
  scenarios: string[];
  kernel: string;
  results: string;
}

/** Plans one expanded `npx reset-bench run ...` line as the CLI would. */
function planCommand(line: string): Planned {
  const argv = line.replace('$(npx reset-bench list | cut -f1)', LIST).trim().split(/\s+/);
  if (argv[0] !== 'npx' || argv[1] !== 'reset-bench' || argv[2] !== 'run') throw new Error(`not a run command: ${line}`);
  const names: string[] = [];
  const opts: Record<string, string> = {};
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) opts[a.slice(2)] = argv[++i]!;
    else names.push(a);
  }
  const kernel = opts.kernel ?? 'patched';
  const runs = planRuns(names.map(findScenario), [kernel], 1, parseShard(opts.shard!));
  return { shard: opts.shard!, scenarios: runs.map((r) => r.scenario.name), kernel, results: opts.results! };
}

/** Every catalog scenario exactly once over the shards, and nothing else. */
function checkCoverage(t: Test, planned: Planned[]): void {
  const seen = new Map<string, number>();
  for (const p of planned) for (const s of p.scenarios) seen.set(s, (seen.get(s) ?? 0) + 1);
  t.same([...seen.keys()].sort(), CATALOG.map((s) => s.name).sort(), 'the shards run the whole catalog');
  t.same([...seen.entries()].filter(([, n]) => n !== 1), [], 'each scenario exactly once');
  t.ok(planned.every((p) => p.scenarios.length > 0), 'no empty shard');
  t.equal(new Set(planned.map((p) => p.results)).size, planned.length, 'each shard its own results directory');
  t.ok(planned.every((p) => p.kernel === 'patched'));
}

type Step = { name?: string; run?: string; uses?: string; if?: string; with?: Record<string, unknown> };

t.test('GitHub Actions: a shard matrix that covers the catalog once, a merge job, Pages', async (t) => {
  const wf = load('github-nightly.yml') as { on: Record<string, unknown>; env: Record<string, unknown>; jobs: Record<string, { needs?: string; if?: string; strategy?: { matrix: { shard: number[] }; 'fail-fast': boolean }; steps: Step[] }> };
  t.ok(wf.on.schedule, 'scheduled');
  const n = Number(wf.env.SHARDS);
  const matrix = wf.jobs.shard!.strategy!.matrix.shard;
  t.same(matrix, Array.from({ length: n }, (_, i) => i + 1), 'matrix is 1..SHARDS');
  t.equal(wf.jobs.shard!.strategy!['fail-fast'], false, 'one failing shard does not cancel the others');
  const steps = wf.jobs.shard!.steps;
  const runStep = steps.find((s) => s.run?.includes('reset-bench run'))!;
  t.match(runStep.run, /--shard \$\{\{ matrix\.shard \}\}\/\$\{\{ env\.SHARDS \}\}/);
  const planned = matrix.map((i) =>
    planCommand(
      runStep
        .run!.replaceAll('${{ matrix.shard }}', String(i))
        .replaceAll('${{ env.SHARDS }}', String(n))
        .replaceAll('${{ env.KCIDB_ORIGIN }}', String(wf.env.KCIDB_ORIGIN)),
    ),
  );
  checkCoverage(t, planned);
  const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
  t.equal(upload.if, '${{ !cancelled() }}', 'a failed shard still keeps its results');
  t.equal(upload.with!.path, 'results/shard-${{ matrix.shard }}');
  const merge = wf.jobs.merge!;
  t.equal(merge.needs, 'shard');
  t.equal(merge.if, '${{ !cancelled() }}', 'merge runs when a shard failed');
  t.ok(merge.steps.some((s) => s.uses?.startsWith('actions/download-artifact') && s.with?.pattern === 'shard-*'));
  t.ok(merge.steps.some((s) => s.run?.startsWith('npx reset-bench merge results/nightly results/shard-*')));
  t.ok(merge.steps.some((s) => s.uses?.startsWith('actions/upload-pages-artifact')));
  t.ok(wf.jobs.publish!.steps.some((s) => s.uses?.startsWith('actions/deploy-pages')), 'report published');
});

t.test('GitLab CI: parallel shards that cover the catalog once, a merge job, Pages', async (t) => {
  type Job = { stage: string; parallel?: number; when?: string; needs?: { job: string; artifacts: boolean }[]; script: string[]; artifacts: { when?: string; paths: string[]; reports?: { junit?: string } } };
  const ci = load('gitlab-nightly.yml') as Record<string, unknown> & { variables: Record<string, string>; workflow: { rules: { if: string }[] } };
  t.ok(ci.workflow.rules.some((r) => r.if.includes('"schedule"')), 'runs from a schedule');
  const shard = ci.shard as Job;
  const n = shard.parallel!;
  t.ok(n >= 2, `${n} parallel shards`);
  const line = shard.script.find((s) => s.includes('reset-bench run'))!;
  t.match(line, /--shard \$CI_NODE_INDEX\/\$CI_NODE_TOTAL/);
  // GitLab gives parallel jobs CI_NODE_INDEX = 1..N and CI_NODE_TOTAL = N.
  const planned = Array.from({ length: n }, (_, k) =>
    planCommand(line.replaceAll('$CI_NODE_INDEX', String(k + 1)).replaceAll('$CI_NODE_TOTAL', String(n)).replaceAll('$KCIDB_ORIGIN', ci.variables.KCIDB_ORIGIN!)),
  );
  checkCoverage(t, planned);
  t.equal(shard.artifacts.when, 'always', 'a failed shard still keeps its results');
  t.equal(shard.artifacts.reports?.junit, 'results/shard-*/junit.xml');
  const merge = ci.merge as Job;
  t.equal(merge.when, 'always');
  t.same(merge.needs, [{ job: 'shard', artifacts: true }]);
  t.ok(merge.script.some((s) => s.startsWith('npx reset-bench merge results/nightly results/shard-*')));
  const pages = ci.pages as Job;
  t.same(pages.artifacts.paths, ['public'], 'report published on Pages');
  t.ok(pages.script.some((s) => s.includes('nightly/report.html')));
});

t.test('the coverage check itself catches a shard left out', async (t) => {
  const planned = [1, 2].map((i) => planCommand(`npx reset-bench run $(npx reset-bench list | cut -f1) --shard ${i}/3 --results r/${i}`));
  const names = new Set(planned.flatMap((p) => p.scenarios));
  t.ok(names.size < CATALOG.length, 'two of three shards miss scenarios');
});
