// Target: the nvmet subsystem built in the target VM while the host VM loads its side
// (the two VMs are two vCPUs, so the two run in parallel). The host is prepared here in
// every topology: the connect phase (connect.ts) counts on it.
import { prepareHost, setupTarget } from '../../orchestrate/nvme-lab.js';
import { need } from '../context.js';
import type { Phase } from './phase.js';

export const target: Phase = {
  name: 'target',
  async run(ctx) {
    const lab = need(ctx.lab, 'the lab');
    await Promise.all([setupTarget(lab), prepareHost(lab)]);
  },
};
