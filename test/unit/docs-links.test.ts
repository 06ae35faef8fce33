// Why: the docs are how someone with only the repository carries on, and a link to a
// file that moved (or to a design note that never was in the repo) is a dead end. This
// checks every relative link in README.md and docs/**/*.md (and its #anchor, when it
// points into a Markdown file), and every docs/... path cited in the code's comments.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Files under dir (relative to root) whose name passes keep, skipping build output. */
function walk(dir: string, keep: (name: string) => boolean): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) {
      if (!['node_modules', 'dist', 'build', 'results', '.tap'].includes(e.name)) out.push(...walk(rel, keep));
    } else if (keep(e.name)) out.push(rel);
  }
  return out;
}

/** The Markdown text with fenced blocks, indented code blocks and code spans blanked. */
export function stripCode(md: string): string {
  const lines = md.split('\n');
  const out: string[] = [];
  let fence: string | undefined;
  let prevBlankOrCode = true;
  for (const line of lines) {
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (f && f[1]!.startsWith(fence)) fence = undefined;
      out.push('');
      continue;
    }
    if (f) {
      fence = f[1]!;
      out.push('');
      continue;
    }
    const indented = /^( {4}|\t)/.test(line) && line.trim() !== '';
    if (indented && prevBlankOrCode) {
      out.push('');
      continue;
    }
    prevBlankOrCode = line.trim() === '';
    out.push(line.replace(/(`+)[^`]*?\1/g, ''));
  }
  return out.join('\n');
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links and images [text](target "title"), and reference definitions [x]: target. */
export function extractLinks(md: string): Link[] {
  const links: Link[] = [];
  stripCode(md)
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: m[1]! });
      const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(text);
      if (def) links.push({ line: i + 1, target: def[1]! });
    });
  return links;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, -N for repeats. */
export function headingAnchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of stripCode(md).split('\n')) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const text = h[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Why a link from `file` (relative to root) does not resolve, or undefined when it does. */
export function brokenLink(file: string, target: string, base = root): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined; // http:, mailto: ...
  const [rawPath = '', anchor] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(rawPath.split('?')[0]!);
  const dest = path === '' ? join(base, file) : path.startsWith('/') ? join(base, path) : resolve(base, dirname(file), path);
  if (!dest.startsWith(base)) return `${target} leaves the repository`;
  if (!existsSync(dest)) return `${target}: no such file (${relative(base, dest)})`;
  if (anchor && dest.endsWith('.md') && statSync(dest).isFile()) {
    if (!headingAnchors(readFileSync(dest, 'utf8')).has(anchor.toLowerCase())) return `${target}: no heading #${anchor} in ${relative(base, dest)}`;
  }
  return undefined;
}

/** Repository files the prose names (src/x.ts, vm/init, test/helpers/...), outside links. */
export function namedPaths(md: string): string[] {
  const re = /(?<![\w./<-])(?:(?:src|test|vm|scripts|kernel-patches|\.ci|docs)\/[\w./-]*\w\.(?:ts|cc|h|sh|mjs|json|ya?ml|md|config|patch)|vm\/init|\.ci\/run)\b/g;
  return [...md.matchAll(re)].map((m) => m[0]);
}

/** docs/... paths named in a source file's text (comments cite them). */
export function citedDocs(text: string): string[] {
  return [...text.matchAll(/(?<![\w./-])docs\/[\w./-]*[\w/]/g)].map((m) => m[0]);
}

const markdown = ['README.md', ...walk('docs', (n) => n.endsWith('.md'))];
const sources = ['src', 'vm', 'scripts', '.ci'].flatMap((d) => walk(d, (n) => /\.(ts|mts|mjs|js|cc|h|sh)$|^init$|^run$/.test(n)));

t.test('the checker finds broken links, and only those', async (t) => {
  const md = [
    '# Top',
    '## The results contract (CONTRACT)',
    '[ok](docs/README.md) [bad](docs/no-such-file.md) [web](https://example.org/x) [self](#top)',
    '[anchor](#the-results-contract-contract) [bad anchor](#nowhere)',
    '',
    '    [in code](docs/nope.md)',
    '`[span](docs/nope.md)`',
    '```',
    '[fenced](docs/nope.md)',
    '```',
    '[ref]: src/does-not-exist.ts',
  ].join('\n');
  const links = extractLinks(md).map((l) => l.target);
  t.same(links, ['docs/README.md', 'docs/no-such-file.md', 'https://example.org/x', '#top', '#the-results-contract-contract', '#nowhere', 'src/does-not-exist.ts']);
  t.equal(brokenLink('README.md', 'docs/README.md'), undefined);
  t.match(brokenLink('README.md', 'docs/no-such-file.md'), /no such file/);
  t.equal(brokenLink('README.md', 'https://example.org/x'), undefined);
  t.match(brokenLink('docs/README.md', '../../outside.md'), /leaves the repository/);
  t.match(brokenLink('README.md', 'README.md#no-such-heading'), /no heading/);
  t.same(headingAnchors(md), new Set(['top', 'the-results-contract-contract']));
  t.same(citedDocs('// see docs/architecture.md, and (docs/kernel-notes.md). not mydocs/x'), ['docs/architecture.md', 'docs/kernel-notes.md']);
  t.same(namedPaths('in src/vm/machine.ts (and vm/init); not kernel-patches/<series>/series or src/'), ['src/vm/machine.ts', 'vm/init']);
});

t.test('the files under test exist', async (t) => {
  t.ok(markdown.includes('docs/README.md'), 'docs/README.md is there');
  t.ok(markdown.length >= 3, `${markdown.length} Markdown files`);
  t.ok(sources.some((f) => f.startsWith('src/')), 'source files found');
});

t.test('every relative link in README.md and docs/ resolves', async (t) => {
  for (const file of markdown) {
    const bad = extractLinks(readFileSync(join(root, file), 'utf8')).flatMap((l) => {
      const why = brokenLink(file, l.target);
      return why ? [`${file}:${l.line}: ${why}`] : [];
    });
    t.same(bad, [], `${file}: no broken links`);
  }
});

t.test('every repository file the docs name in their prose exists', async (t) => {
  for (const file of markdown) {
    const missing = namedPaths(readFileSync(join(root, file), 'utf8')).filter((p) => !existsSync(join(root, p)) && !existsSync(join(root, dirname(file), p)));
    t.same([...new Set(missing)], [], `${file}: every named file exists`);
  }
});

t.test('every docs/ path cited in the code exists', async (t) => {
  const bad: string[] = [];
  for (const file of sources) {
    for (const p of citedDocs(readFileSync(join(root, file), 'utf8'))) {
      if (!existsSync(join(root, p))) bad.push(`${file}: ${p}`);
    }
  }
  t.same(bad, [], 'no citation of a missing docs/ file');
});

t.test('nothing cites the design notes that are not in the repository', async (t) => {
  const stale = [...markdown, ...sources].filter((f) => /(?<!docs\/)\b(ARCHITECTURE|KERNEL-NOTES)\.md\b/.test(readFileSync(join(root, f), 'utf8')));
  t.same(stale, [], 'ARCHITECTURE.md and KERNEL-NOTES.md are docs/architecture.md and docs/kernel-notes.md now');
});

/** The environment variables a source file reads: process.env.X, env.RESET_BENCH_X, getenv("X"), and ${X:-...} in shell. */
export function envReads(file: string, text: string): string[] {
  const patterns = [/process\.env\.([A-Z_][A-Z0-9_]*)/g, /(?<!process\.)\benv\.(RESET_BENCH_[A-Z0-9_]+)/g, /getenv\("([A-Z_][A-Z0-9_]*)"\)/g];
  if (file.endsWith('.sh')) patterns.push(/\$\{([A-Z_][A-Z0-9_]*):-/g);
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

t.test('docs/environment.md names every environment variable the code reads', async (t) => {
  t.same(envReads('x.sh', 'a=${JOBS:-2} $lower; process.env.RESET_BENCH_QEMU; getenv("RB_URING_FLAGS"); env.RESET_BENCH_ACCEL'), ['RESET_BENCH_QEMU', 'RESET_BENCH_ACCEL', 'RB_URING_FLAGS', 'JOBS']);
  const documented = readFileSync(join(root, 'docs', 'environment.md'), 'utf8');
  const read = new Map<string, string>();
  for (const file of sources) for (const name of envReads(file, readFileSync(join(root, file), 'utf8'))) if (!read.has(name)) read.set(name, file);
  t.ok(read.size >= 8, `${read.size} variables read`);
  const missing = [...read].filter(([name]) => !documented.includes(`\`${name}\``)).map(([name, file]) => `${name} (${file})`);
  t.same(missing, [], 'every one has a row in docs/environment.md');
});
