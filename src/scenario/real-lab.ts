// The lab of QEMU VMs (src/vm/topology.ts) behind the runner's boundary (lab.ts): the
// kernel from the cache or the user's tree, the VMs booted, and a scenario's side and
// reset kind turned into the injector acting on those VMs' devices.
import { resolveKernel } from '../kernel/resolve.js';
import { NETDEV, RXE } from '../orchestrate/nvme-lab.js';
import { INJECTORS, type RdmaSite } from '../reset/index.js';
import type { Machine } from '../vm/machine.js';
import { nicDevice } from '../vm/qemu-args.js';
import { bootLab, LAB_NET, type Lab } from '../vm/topology.js';
import type { LabDriver, ResetPlan, RunLab } from './lab.js';
import type { ScenarioSpec } from './spec.js';

function site(vm: Machine, lab: Lab): RdmaSite {
  const nic = vm.opts.nics[0]!;
  return {
    vm,
    netdev: NETDEV,
    rxe: RXE,
    cidr: `${vm === lab.host && lab.kind === 'pair' ? lab.hostAddr : lab.targetAddr}/${LAB_NET.prefix}`,
    nicId: nic.id,
    nicDevice: nicDevice(nic),
  };
}

/** The VMs whose device the scenario resets. On loopback, one VM is both. */
export function resetSites(lab: Lab, side: ScenarioSpec['side']): RdmaSite[] {
  if (lab.kind === 'loopback') return [site(lab.host, lab)];
  if (side === 'host') return [site(lab.host, lab)];
  if (side === 'target') return [site(lab.target, lab)];
  return [site(lab.target, lab), site(lab.host, lab)];
}

/** The scenario's injector on every site at once. */
export function injectorPlan(lab: Lab, spec: Pick<ScenarioSpec, 'side' | 'reset'>): ResetPlan {
  const injector = INJECTORS[spec.reset];
  const sites = resetSites(lab, spec.side);
  return {
    describe: injector.describe,
    vms: sites.map((s) => s.vm.name),
    trigger: async () => void (await Promise.all(sites.map((s) => injector.trigger(s)))),
    restore: async () => void (await Promise.all(sites.map((s) => injector.restore(s)))),
  };
}

export function asRunLab(lab: Lab): RunLab {
  return { ...lab, resetPlan: (spec) => injectorPlan(lab, spec) };
}

export const qemuLab: LabDriver = {
  resolveKernel: (choice, opts) => resolveKernel(choice, opts),
  boot: async (req) => asRunLab(await bootLab(req)),
};
