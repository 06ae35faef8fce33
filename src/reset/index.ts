import { hotplug } from './hotplug.js';
import { linkFlap } from './link-flap.js';
import { moduleReload } from './module-reload.js';
import { pciRebind } from './pci-rebind.js';
import { rdmaLink } from './rdma-link.js';
import type { Injector, ResetKind } from './types.js';

export * from './types.js';

export const INJECTORS: Record<ResetKind, Injector> = {
  'rdma-link': rdmaLink,
  'pci-rebind': pciRebind,
  hotplug,
  'link-flap': linkFlap,
  'module-reload': moduleReload,
};

/** Whether a reset starts processes on the VMs it resets: its injector's own, or hold_tx's qdisc (tc). */
export function resetRunsTools(spec: { reset: ResetKind; hold_tx?: unknown }): boolean {
  return INJECTORS[spec.reset].runsTools || spec.hold_tx !== undefined;
}
