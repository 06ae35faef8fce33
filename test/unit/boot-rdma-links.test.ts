// Which rxe devices a scenario's VMs make at boot: the links its set-up uses for RDMA.
import t from 'tap';
import { rdmaLinksOf } from '../../src/scenario/phases/boot.js';
import { PathsSpec } from '../../src/scenario/spec.js';

t.test('pair and loopback: link 0; pair2: every link that carries RDMA, not an nvme-tcp one', async (t) => {
  t.same(rdmaLinksOf({ topology: 'pair' }), [0]);
  t.same(rdmaLinksOf({ topology: 'loopback' }), [0]);
  t.same(rdmaLinksOf({ topology: 'pair2', paths: PathsSpec.parse({}) }), [0, 1]);
  t.same(rdmaLinksOf({ topology: 'pair2', paths: PathsSpec.parse({ transports: ['rdma', 'tcp'] }) }), [0]);
  t.same(rdmaLinksOf({ topology: 'pair2', paths: PathsSpec.parse({ transports: ['tcp', 'rdma'] }) }), [1]);
});
