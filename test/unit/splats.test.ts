import t from 'tap';
import { classifySplat } from '../../src/vm/splats.js';

t.test('kernel reports are recognised by kind', async (t) => {
  const cases: [string, string | undefined][] = [
    ['[   12.1] Kernel panic - not syncing: sysrq triggered crash', 'panic'],
    ['[    3.2] BUG: KASAN: use-after-free in nvme_rdma_free_queue+0x12/0x40', 'kasan'],
    ['[    3.2] WARNING: possible circular locking dependency detected', 'lockdep'],
    ['[  150.0] INFO: task kworker/0:1:12 blocked for more than 30 seconds.', 'hung_task'],
    ['kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)', 'kmemleak'],
    ['[    9.9] BUG: unable to handle page fault for address: 0000000000001234', 'oops'],
    ['[    9.9] Oops: 0000 [#1] PREEMPT SMP NOPTI', 'oops'],
    ['[    9.9] kernel BUG at drivers/nvme/host/rdma.c:1234!', 'bug'],
    ['[    9.9] WARNING: CPU: 0 PID: 42 at drivers/infiniband/core/cma.c:123 cma_foo+0x1/0x2', 'warning'],
    ['[    1.0] nvme nvme0: Removing ctrl: NQN "testnqn"', undefined],
    ['a line that mentions a WARNING in passing', undefined],
  ];
  for (const [line, kind] of cases) t.equal(classifySplat(line), kind, line);
});
