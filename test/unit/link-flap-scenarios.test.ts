// scenarios/host-link-flap-long.yaml is valid, and its numbers do what its comment
// says: the link stays down past the host's detection (the RC retransmit timeout, about
// 2.1 s on 6.1), and the deadline outlasts the IB CM's give-up on a REQ with no REP.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { findScenario, LINK_FLAP_DEADLINE_MS, LINK_FLAP_IO_TIMEOUT_MS } from '../../src/scenario/catalog.js';
import { loadScenarioFile } from '../../src/scenario/spec.js';

const FILE = fileURLToPath(new URL('../../scenarios/host-link-flap-long.yaml', import.meta.url));

/** 6.1's rdma_cm on RoCE: 16 REQs, each waiting 2 x 2^(18-8) + 2^(20-8) ms (drivers/infiniband/core/cm.c, cma.c). */
const CM_GIVE_UP_MS = 16 * (2 * 1024 + 4096);

t.test('host-link-flap-long', async (t) => {
  const [s, ...rest] = await loadScenarioFile(FILE);
  t.equal(rest.length, 0);
  t.equal(s?.name, 'host-link-flap-long');
  t.equal(s?.reset, 'link-flap');
  t.equal(s?.side, 'host');
  t.ok(s && s.down_ms >= 2 * 2147, 'down long enough for the teardown to run while the link is down');
  t.ok(s && s.recovery_deadline_ms > CM_GIVE_UP_MS + s.connect.reconnect_delay * 1000 + 10_000, 'the deadline covers the CM giving up and a second attempt');
});

t.test('the built-in link-flap controls wait out nvme\'s I/O timeout, then a reconnect', async (t) => {
  const flaps = ['host-link-flap', 'target-link-flap', 'both-link-flap'].map(findScenario);
  for (const s of flaps) {
    t.equal(s.recovery_deadline_ms, LINK_FLAP_DEADLINE_MS, s.name);
    // the lost command was sent before the flap: it times out at most LINK_FLAP_IO_TIMEOUT_MS after the device went
    t.ok(s.down_ms + s.recovery_deadline_ms > LINK_FLAP_IO_TIMEOUT_MS + s.connect.reconnect_delay * 1000 + 5_000, `${s.name}: the timeout, a reconnect_delay and 5 s to connect`);
  }
  t.equal(findScenario('host-rdma-link').recovery_deadline_ms, 20_000, 'the others keep the default');
});
