import t from 'tap';
import { parseKmemleak } from '../../src/scenario/kmemleak.js';

t.test('one line per leaked object, with size, comm and the first frames past the allocator', async (t) => {
  const report = `unreferenced object 0xffff888006d3a000 (size 512):
  comm "kworker/u2:1", pid 24, jiffies 4294912345 (age 12.340s)
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace:
    [<ffffffff8132a5b1>] kmalloc_trace+0x21/0x90
    [<ffffffffc0a1b2c3>] nvme_rdma_alloc_queue+0x53/0x2a0 [nvme_rdma]
    [<ffffffffc0a1c000>] nvme_rdma_setup_ctrl+0x40/0x500 [nvme_rdma]
    [<ffffffffc0a1d000>] nvme_rdma_reconnect_ctrl_work+0x30/0x90 [nvme_rdma]
    [<ffffffff810b1234>] process_one_work+0x1c7/0x380
unreferenced object 0xffff888007000000 (size 64):
  comm "modprobe", pid 90, jiffies 4294900000 (age 30.000s)
  backtrace:
    [<ffffffff8132a5b1>] __kmalloc+0x21/0x90
    [<ffffffffc0b00000>] rxe_net_add+0x10/0x80 [rdma_rxe]
`;
  t.same(parseKmemleak(report), [
    'kmemleak: unreferenced object 0xffff888006d3a000 (size 512) from kworker/u2:1: nvme_rdma_alloc_queue < nvme_rdma_setup_ctrl < nvme_rdma_reconnect_ctrl_work',
    'kmemleak: unreferenced object 0xffff888007000000 (size 64) from modprobe: rxe_net_add',
  ]);
  t.same(parseKmemleak(''), [], 'an empty report is no leak');
});
