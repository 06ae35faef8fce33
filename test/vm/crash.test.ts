// A guest that panics, or whose lab link is stuck, is an error with its console attached,
// and leaves no QEMU.
import t from 'tap';
import { bootLab } from '../../src/vm/topology.js';
import { HarnessError } from '../../src/util/errors.js';
import { labOrSkip, pidAlive, project, stockKernel, testLogDir } from '../helpers/lab.js';

if (await labOrSkip()) {
  t.test('a kernel panic becomes a HarnessError carrying the console, and QEMU is reaped', async (t) => {
    const lab = await bootLab({ kind: 'loopback', kernel: await stockKernel(), project, logDir: testLogDir('crash') });
    const pid = lab.host.proc.pid!;
    const err = await lab.host.agent
      .exec(['sh', '-c', 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger; sleep 30'], { deadlineMs: 60_000 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    t.type(err, HarnessError, 'the pending request fails instead of hanging');
    await lab.host.exited;
    t.ok(lab.host.crashed, 'the machine records the crash');
    t.match(lab.host.crashed!.message, /Kernel panic|exited unexpectedly/);
    t.match(lab.host.crashed!.details?.consoleTail ?? '', /sysrq|Kernel panic/i, 'the console tail is attached');
    t.notOk(pidAlive(pid), 'no QEMU left');
    const after = await lab.host.agent.exec(['true']).catch((e: unknown) => e);
    t.type(after, HarnessError, 'later requests fail at once');
    await lab.kill();
  });

  t.test('a transmit queue stopped for 30 s (the kernel says so on the console) fails the machine: the lab link is stuck', async (t) => {
    const lab = await bootLab({ kind: 'loopback', kernel: await stockKernel(), project, logDir: testLogDir('crash-link') });
    const pid = lab.host.proc.pid!;
    // The watchdog's own line, as Debian's 6.1 prints it, written to the kernel log (so
    // to the console) by hand: a real stuck queue has no way to be made on purpose.
    const line = 'virtio_net virtio2 eth0: NETDEV WATCHDOG: CPU: 0: transmit queue 0 timed out 31000 ms';
    const err = await lab.host.agent
      .exec(['sh', '-c', `echo '<2>${line}' > /dev/kmsg; sleep 30`], { deadlineMs: 60_000 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    t.type(err, HarnessError, 'the pending request fails instead of waiting out the sleep');
    await lab.host.exited;
    t.match(lab.host.crashed?.message ?? '', /^the network link of guest lab is stuck: its NIC has sent nothing for 31 s/);
    t.match(lab.host.crashed?.details?.consoleTail ?? '', /NETDEV WATCHDOG/, 'the console tail is attached');
    t.notOk(pidAlive(pid), 'no QEMU left');
    await lab.kill();
  });
}
