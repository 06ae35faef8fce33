// Shutdown: the kernel logs saved and the VMs powered off cleanly; a run that ended early
// (a removal or a reset's trigger that never returned) kills them instead: the guest
// kernel's own shutdown waits behind the same removal (stock 6.1 host-pci-rebind and
// host-hotplug: the 20 s power-off deadline ran out both times), and nothing in the
// guest is wanted once its logs are saved.
import { need } from '../context.js';
import { saveKmsg } from '../kmsg.js';
import { endedEarly, type Phase } from './phase.js';

export const shutdown: Phase = {
  name: 'shutdown',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    await saveKmsg(lab.machines, ctx.runDir, ctx.clocks, ctx.t0);
    await (endedEarly(ctx) ? lab.kill() : lab.shutdown());
    ctx.labClosed = true;
  },
};
