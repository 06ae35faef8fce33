// Why: rdma_rxe's module exit must not wait without bound for skbs it sent that a
// lower device still holds (issue 12): an idle or slow NIC, or a qdisc, may keep them
// as long as it likes. A netem qdisc with a long delay on the reset netdev is such a
// queue, made on purpose: every skb sent after it is in place stays there until it is
// deleted, which frees them (on a kernel whose skb destructor lives in rdma_rxe, after
// the module is gone: the splat check sees it).
import { sleep } from '../util/deadline.js';
import { TC_QDISC_MS, TX_HOLD_FILL_MS } from '../util/timeouts.js';
import type { RdmaSite } from './types.js';

/** Far longer than the outage (tc takes at most about 270 s): nothing leaves the queue until it is deleted. */
const HOLD_DELAY = '200s';

/** The netem qdisc in place, then I/O goes on into it for TX_HOLD_FILL_MS. */
export async function holdTx(site: RdmaSite): Promise<void> {
  await site.vm.agent.check(['tc', 'qdisc', 'replace', 'dev', site.netdev, 'root', 'netem', 'delay', HOLD_DELAY, 'limit', '100000'], { deadlineMs: TC_QDISC_MS });
  await sleep(TX_HOLD_FILL_MS);
}

/** The qdisc deleted: the held skbs are freed and the netdev sends again. */
export async function releaseTx(site: RdmaSite): Promise<void> {
  await site.vm.agent.check(['tc', 'qdisc', 'del', 'dev', site.netdev, 'root'], { deadlineMs: TC_QDISC_MS });
}
