// Module trees: parsing modules.dep, ordering a module's dependencies for insmod,
// and per-variant trees (a hard-linked copy of the distribution's tree with our
// builds in updates/, which depmod ranks above kernel/).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { run } from '../util/exec.js';

/** module name (dashes folded to underscores) -> { path relative to the tree, deps } */
export type ModuleDeps = Map<string, { path: string; deps: string[] }>;

export const moduleName = (path: string): string => basename(path).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');

export function parseModulesDep(text: string): ModuleDeps {
  const out: ModuleDeps = new Map();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const path = line.slice(0, i).trim();
    const deps = line
      .slice(i + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(moduleName);
    out.set(moduleName(path), { path, deps });
  }
  return out;
}

/** Load order for `wanted` and everything they need: dependencies first, each once. */
export function loadOrder(deps: ModuleDeps, wanted: string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (raw: string, from?: string): void => {
    const name = raw.replace(/-/g, '_');
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`module dependency cycle through ${name}`);
    const entry = deps.get(name);
    if (!entry) throw new Error(`module ${name}${from ? ` (needed by ${from})` : ''} is not in modules.dep`);
    state.set(name, 'visiting');
    for (const d of entry.deps) visit(d, name);
    state.set(name, 'done');
    order.push(name);
  };
  for (const w of wanted) visit(w);
  return order;
}

export async function readModuleDeps(modulesDir: string): Promise<ModuleDeps> {
  return parseModulesDep(await readFile(join(modulesDir, 'modules.dep'), 'utf8'));
}

/** Makes variants/<name>/lib/modules/KVER as a hard-linked copy of the base tree. */
export async function ensureVariantTree(baseModules: string, variantRoot: string, kver: string): Promise<string> {
  const dir = join(variantRoot, 'lib', 'modules', kver);
  if (!existsSync(join(dir, 'kernel'))) {
    await mkdir(join(variantRoot, 'lib', 'modules'), { recursive: true });
    await run('cp', ['-al', baseModules, join(variantRoot, 'lib', 'modules', kver)]);
  }
  return dir;
}

export async function depmod(root: string, kver: string): Promise<void> {
  await run('depmod', ['-b', root, kver]);
}
