// Shutdown: the kernel logs saved, then the VMs killed. Nothing of a guest outlives it
// (its root is the host's, shared read-only; its runtime disk is read-only; the saved
// states are only read), and the verdict is decided before this phase, so a clean
// power-off would show nothing the run uses: it took 0.1-0.4 s a run (session 24's
// catalog), and a run that ended early could not have one at all (the guest kernel's
// own shutdown waits behind the same removal: stock 6.1 host-pci-rebind and
// host-hotplug ran out the 20 s power-off deadline).
import { need } from '../context.js';
import { saveKmsg } from '../kmsg.js';
import type { Phase } from './phase.js';

export const shutdown: Phase = {
  name: 'shutdown',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    await saveKmsg(lab.machines, ctx.runDir, ctx.clocks, ctx.t0);
    await lab.kill();
    ctx.labClosed = true;
  },
};
