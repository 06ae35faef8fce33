// Leak scan: on kernels with kmemleak, every object leaked during the run (two scans, so
// transient false positives drop out) becomes a kernel report like a console splat.
import { scanKmemleak } from '../kmemleak.js';
import type { Phase } from './phase.js';

export const leakScan: Phase = {
  name: 'leak-scan',
  when: (ctx) => ctx.leakChecked.length > 0,
  async run(ctx) {
    ctx.say(`kmemleak scan in ${ctx.leakChecked.map((m) => m.name).join(', ')}`);
    const leaks = await Promise.all(ctx.leakChecked.map(async (m) => (await scanKmemleak(m)).map((leak) => `${m.name}: ${leak}`)));
    ctx.splatLines.push(...leaks.flat());
  },
};
