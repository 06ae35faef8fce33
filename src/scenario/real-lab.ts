// The lab of QEMU VMs (src/vm/topology.ts) behind the runner's boundary (lab.ts): the
// kernel from the cache or the user's tree, the VMs booted, and a scenario's side and
// reset kind turned into the injector acting on those VMs' devices.
import { resolveKernel } from '../kernel/resolve.js';
import { rxeOf } from '../orchestrate/nvme-lab.js';
import { INJECTORS, resetRunsTools, type RdmaSite } from '../reset/index.js';
import { sleep } from '../util/deadline.js';
import type { Machine } from '../vm/machine.js';
import { nicDevice } from '../vm/qemu-args.js';
import { bootLab, LAB_NET, type Lab, type LabLink } from '../vm/topology.js';
import type { LabDriver, ResetPlan, RunLab } from './lab.js';
import type { ScenarioSpec } from './spec.js';

function site(vm: Machine, lab: Lab, link: LabLink, spec: Pick<ScenarioSpec, 'restore' | 'hold_tx'>): RdmaSite {
  const { restore } = spec;
  const nic = vm.opts.nics.find((n) => n.id === link.nicId);
  if (!nic) throw new Error(`${vm.name} has no NIC ${link.nicId} for link ${link.index}`);
  return {
    vm,
    netdev: link.netdev,
    rxe: rxeOf(link.index),
    cidr: `${vm === lab.host ? link.hostAddr : link.targetAddr}/${LAB_NET.prefix}`,
    mtu: LAB_NET.mtu,
    nicId: nic.id,
    nicDevice: nicDevice(nic),
    ...(restore?.rxe_name ? { restoreAs: restore.rxe_name } : {}),
    ...(restore?.address_delay_ms ? { addressDelayMs: restore.address_delay_ms } : {}),
    ...(spec.hold_tx ? { holdTx: true } : {}),
  };
}

/** The VMs whose device the scenario resets, on each link it resets. On loopback, one VM is both. */
export function resetSites(lab: Lab, spec: Pick<ScenarioSpec, 'side' | 'paths' | 'restore' | 'hold_tx'>): RdmaSite[] {
  const links = (spec.paths?.reset ?? [0]).map((i) => lab.links[i] ?? lab.links[0]!);
  const vms = lab.kind === 'loopback' || spec.side === 'host' ? [lab.host] : spec.side === 'target' ? [lab.target] : [lab.target, lab.host];
  return links.flatMap((l) => vms.map((vm) => site(vm, lab, l, spec)));
}

/**
 * Runs `act` on every site: at once, or (pair2's paths.stagger_ms) link by link,
 * stagger_ms apart, the sites of one link together.
 */
export async function onSites(sites: readonly RdmaSite[], staggerMs: number, act: (s: RdmaSite) => Promise<void>): Promise<void> {
  if (staggerMs <= 0) return void (await Promise.all(sites.map(act)));
  const byLink = new Map<string, RdmaSite[]>();
  for (const s of sites) byLink.set(s.netdev, [...(byLink.get(s.netdev) ?? []), s]);
  let first = true;
  for (const group of byLink.values()) {
    if (!first) await sleep(staggerMs);
    first = false;
    await Promise.all(group.map(act));
  }
}

function restoreNote(r: ScenarioSpec['restore']): string {
  if (!r) return '';
  return `${r.rxe_name ? `; back as ${r.rxe_name}` : ''}${r.address_delay_ms ? `; the address ${r.address_delay_ms} ms after the rxe device` : ''}`;
}

/** The scenario's injector on every site: at once, or staggered per link. */
export function injectorPlan(lab: Lab, spec: Pick<ScenarioSpec, 'side' | 'reset' | 'paths' | 'restore' | 'hold_tx'>): ResetPlan {
  const injector = INJECTORS[spec.reset];
  const sites = resetSites(lab, spec);
  const stagger = spec.paths?.stagger_ms ?? 0;
  return {
    describe: `${spec.hold_tx ? 'with the sent skbs held in the netdev\'s queue (netem), ' : ''}${injector.describe}${stagger ? `, link by link ${stagger} ms apart` : ''}${restoreNote(spec.restore)}`,
    vms: sites.map((s) => s.vm.name),
    toolVms: resetRunsTools(spec) ? sites.map((s) => s.vm.name) : [],
    trigger: () => onSites(sites, stagger, (s) => injector.trigger(s)),
    restore: () => onSites(sites, stagger, (s) => injector.restore(s)),
  };
}

export function asRunLab(lab: Lab): RunLab {
  return { ...lab, resetPlan: (spec) => injectorPlan(lab, spec) };
}

export const qemuLab: LabDriver = {
  resolveKernel: (choice, opts) => resolveKernel(choice, opts),
  boot: async (req) => asRunLab(await bootLab(req)),
};
