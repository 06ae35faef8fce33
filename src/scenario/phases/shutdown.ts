// Shutdown: the kernel logs saved and the VMs powered off cleanly.
import { need } from '../context.js';
import { saveKmsg } from '../kmsg.js';
import type { Phase } from './phase.js';

export const shutdown: Phase = {
  name: 'shutdown',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    await saveKmsg(lab.machines, ctx.runDir, ctx.clocks, ctx.t0);
    await lab.shutdown();
    ctx.labClosed = true;
  },
};
