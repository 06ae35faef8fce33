import t from 'tap';
import { kbuildFor, makefileLines } from '../../src/kernel/kbuild.js';

// Shaped like drivers/nvme/host/Makefile and drivers/infiniband/sw/rxe/Makefile.
const host = `# SPDX-License-Identifier: GPL-2.0

ccflags-y				+= -I$(src)

obj-$(CONFIG_NVME_CORE)			+= nvme-core.o
obj-$(CONFIG_NVME_RDMA)			+= nvme-rdma.o
obj-$(CONFIG_NVME_TCP)			+= nvme-tcp.o

nvme-core-y				+= core.o ioctl.o
nvme-core-$(CONFIG_TRACING)		+= trace.o
nvme-core-$(CONFIG_NVME_MULTIPATH)	+= multipath.o

nvme-y					+= pci.o
nvme-rdma-y				+= rdma.o
nvme-tcp-y				+= tcp.o
`;

const rxe = `obj-$(CONFIG_RDMA_RXE) += rdma_rxe.o

rdma_rxe-y := \\
	rxe.o \\
	rxe_comp.o \\
	rxe_net.o
`;

t.test('joins continuations and drops comments and blank lines', async (t) => {
  t.same(makefileLines(rxe), ['obj-$(CONFIG_RDMA_RXE) += rdma_rxe.o', 'rdma_rxe-y :=  rxe.o  rxe_comp.o  rxe_net.o']);
  t.same(makefileLines('# only a comment\n\nx-y += a.o # trailing\n'), ['x-y += a.o']);
});

t.test('keeps the wanted modules, their config-dependent objects and the flags', async (t) => {
  const k = kbuildFor(host, ['nvme-core', 'nvme-rdma']);
  const lines = k.trim().split('\n');
  t.equal(lines[0], 'obj-m := nvme-core.o nvme-rdma.o');
  t.ok(lines.includes('ccflags-y				+= -I$(src)'), 'the include path trace.o needs');
  t.ok(lines.includes('nvme-core-$(CONFIG_NVME_MULTIPATH)	+= multipath.o'), 'multipath.o stays conditional');
  t.ok(lines.includes('nvme-rdma-y				+= rdma.o'));
  t.notOk(lines.some((l) => /nvme-tcp|pci\.o|obj-\$\(CONFIG/.test(l)), 'no other module and no obj-$(CONFIG_...) line');
});

t.test('does not take a module whose name only starts like the wanted one', async (t) => {
  const k = kbuildFor(`nvme-y += pci.o\nnvme-core-y += core.o\n`, ['nvme']);
  t.same(k.trim().split('\n'), ['obj-m := nvme.o', 'nvme-y += pci.o']);
});

t.test('a multi-line object list comes through whole', async (t) => {
  t.match(kbuildFor(rxe, ['rdma_rxe']), /rdma_rxe-y := +rxe\.o +rxe_comp\.o +rxe_net\.o/);
});

t.test('a module with no object list is an error naming it', async (t) => {
  t.throws(() => kbuildFor(host, ['nvme-fc']), /no object list for nvme-fc/);
});
