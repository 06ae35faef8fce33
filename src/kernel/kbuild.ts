// A Kbuild file for building some of a directory's modules out of tree: obj-m names only
// the wanted modules, and each module's own composite-object lines (`nvme-core-y += ...`,
// `nvme-core-$(CONFIG_X) += ...`) and the directory's compiler flags are kept from its
// Makefile, so config-dependent objects come out as the kernel's own build makes them.

/** Joins backslash continuations and drops comments and blank lines. */
export function makefileLines(text: string): string[] {
  const joined = text.replace(/\\\r?\n[ \t]*/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l.length > 0);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The Kbuild for `modules`, all from the directory whose Makefile is `makefile`. Throws if
 * a module has no composite-object line there (a single-file module is not supported: none
 * of the lab's modules is one).
 */
export function kbuildFor(makefile: string, modules: readonly string[]): string {
  const lines = makefileLines(makefile);
  const flags = lines.filter((l) => /^(ccflags-|subdir-ccflags-|CFLAGS_)/.test(l));
  const parts: string[] = [];
  for (const m of modules) {
    const own = lines.filter((l) => new RegExp(`^${escape(m)}-(y|objs|\\$\\(CONFIG_[A-Z0-9_]+\\))\\s*[:+]?=`).test(l));
    if (own.length === 0) throw new Error(`the Makefile has no object list for ${m} (no "${m}-y" line)`);
    parts.push(...own);
  }
  return [`obj-m := ${modules.map((m) => `${m}.o`).join(' ')}`, ...flags, ...parts, ''].join('\n');
}

/** The modules of a Makefile whose object lists name `object` (e.g. "multipath.o" -> ["nvme-core"]). */
export function modulesOfObject(makefile: string, object: string): string[] {
  const out = new Set<string>();
  for (const l of makefileLines(makefile)) {
    const m = /^([A-Za-z0-9_-]+)-(?:y|objs|\$\(CONFIG_[A-Z0-9_]+\))\s*[:+]?=\s*(.*)$/.exec(l);
    if (m && m[1] !== 'obj' && m[2]!.split(/\s+/).includes(object)) out.add(m[1]!);
  }
  return [...out];
}
