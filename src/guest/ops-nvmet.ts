// The nvmet target applied in the guest, in one request: the apply (nvmet-apply.ts) reads
// and writes about 30 configfs files, and as one agent round trip each that was most of
// the target phase under TCG (20-80 ms a trip in a VM just booted). The host checks the
// configuration (parseTargetConfig, zod) and sends the result; a kernel refusal comes
// back as the apply's own message (ConfigfsError: the attribute and the likely cause).
import { applyConfig } from '../orchestrate/configfs/nvmet-apply.js';
import type { TargetConfig } from '../orchestrate/configfs/model.js';
import { badArg } from './args.js';
import { localFs } from './local-fs.js';
import type { Op } from './ops.js';

/** The shape the host sends (it was checked there with zod): only what would break the walk is looked at. */
function config(r: Record<string, unknown>): TargetConfig {
  const c = r.config as Partial<Record<keyof TargetConfig, unknown>> | undefined;
  if (!c || !Array.isArray(c.hosts) || !Array.isArray(c.subsystems) || !Array.isArray(c.ports))
    throw badArg('config', 'a checked TargetConfig (hosts, subsystems, ports)', c);
  return c as TargetConfig;
}

export const nvmetOps: Record<string, Op> = {
  apply: async (r) => applyConfig(localFs, config(r)),
};
