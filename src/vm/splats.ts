// Recognises kernel reports in console or kmsg lines: what makes a run suspect.

export type SplatKind = 'panic' | 'oops' | 'bug' | 'warning' | 'kasan' | 'lockdep' | 'hung_task' | 'kmemleak' | 'rcu_stall';

const PATTERNS: [SplatKind, RegExp][] = [
  ['panic', /Kernel panic - not syncing/],
  ['kasan', /BUG: KASAN:|KASAN: .*(use-after-free|out-of-bounds)/],
  ['lockdep', /WARNING: (possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage)|INFO: possible (irq lock inversion|circular locking)/],
  ['hung_task', /INFO: task .* blocked for more than \d+ seconds/],
  ['kmemleak', /kmemleak: \d+ new suspected memory leaks/],
  ['rcu_stall', /rcu: INFO: rcu_\w+ (self-)?detected stall/],
  ['oops', /Oops:|general protection fault|BUG: unable to handle/],
  ['bug', /\bBUG: |kernel BUG at/],
  ['warning', /WARNING: CPU: \d+ PID: \d+ at /],
];

export function classifySplat(line: string): SplatKind | undefined {
  for (const [kind, re] of PATTERNS) if (re.test(line)) return kind;
  return undefined;
}

/** Kinds that mean the guest is dead or cannot be trusted to go on. */
export const FATAL_SPLATS: ReadonlySet<SplatKind> = new Set(['panic']);

export interface Splat {
  kind: SplatKind;
  line: string;
  /** Host wall-clock ms when it was seen. */
  at: number;
}
