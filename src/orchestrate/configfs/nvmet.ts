// The nvmet target through configfs, from a configuration not yet checked: checked with
// zod (model.ts), then applied (nvmet-apply.ts).
import type { GuestFs } from '../guest-fs.js';
import { parseTargetConfig } from './model.js';
import { applyConfig, type ApplyResult, type NvmetOptions } from './nvmet-apply.js';

export * from './nvmet-apply.js';

/**
 * Makes the target match `input`, checked first with parseTargetConfig (a UsageError
 * naming the field): see applyConfig.
 */
export async function applyTarget(fs: GuestFs, input: unknown, opts: NvmetOptions = {}): Promise<ApplyResult> {
  return applyConfig(fs, parseTargetConfig(input), opts);
}
