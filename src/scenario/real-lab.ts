// The lab of QEMU VMs (src/vm/topology.ts) behind the runner's boundary (lab.ts): the
// kernel from the cache or the user's tree, the VMs booted, and a scenario's side and
// reset kind turned into the injector acting on those VMs' devices.
import { resolveKernel } from '../kernel/resolve.js';
import { rxeOf } from '../orchestrate/nvme-lab.js';
import { INJECTORS, type RdmaSite } from '../reset/index.js';
import type { Machine } from '../vm/machine.js';
import { nicDevice } from '../vm/qemu-args.js';
import { bootLab, LAB_NET, type Lab, type LabLink } from '../vm/topology.js';
import type { LabDriver, ResetPlan, RunLab } from './lab.js';
import type { ScenarioSpec } from './spec.js';

function site(vm: Machine, lab: Lab, link: LabLink): RdmaSite {
  const nic = vm.opts.nics.find((n) => n.id === link.nicId);
  if (!nic) throw new Error(`${vm.name} has no NIC ${link.nicId} for link ${link.index}`);
  return {
    vm,
    netdev: link.netdev,
    rxe: rxeOf(link.index),
    cidr: `${vm === lab.host ? link.hostAddr : link.targetAddr}/${LAB_NET.prefix}`,
    nicId: nic.id,
    nicDevice: nicDevice(nic),
  };
}

/** The VMs whose device the scenario resets, on each link it resets. On loopback, one VM is both. */
export function resetSites(lab: Lab, spec: Pick<ScenarioSpec, 'side' | 'paths'>): RdmaSite[] {
  const links = (spec.paths?.reset ?? [0]).map((i) => lab.links[i] ?? lab.links[0]!);
  const vms = lab.kind === 'loopback' || spec.side === 'host' ? [lab.host] : spec.side === 'target' ? [lab.target] : [lab.target, lab.host];
  return links.flatMap((l) => vms.map((vm) => site(vm, lab, l)));
}

/** The scenario's injector on every site at once. */
export function injectorPlan(lab: Lab, spec: Pick<ScenarioSpec, 'side' | 'reset' | 'paths'>): ResetPlan {
  const injector = INJECTORS[spec.reset];
  const sites = resetSites(lab, spec);
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
