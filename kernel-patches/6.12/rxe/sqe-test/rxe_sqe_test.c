// SPDX-License-Identifier: GPL-2.0
/*
 * Not part of the rxe set: a test module for rxe patch 3 ("move a UD QP to
 * SQE, not to ERR, when a send fails"), for lab guests that have no
 * libibverbs.  It checks, deterministically and without sending anything,
 * that a modify to RTS is refused when the QP is in Error, whatever the
 * caller claims as IB_QP_CUR_STATE, and when the caller claims SQE (the
 * claim ib_mad_send_error() makes) and the QP is not in SQE.
 *
 * On load it creates a kernel UD QP on the rxe device named by "dev",
 * takes it RESET -> INIT -> RTR -> RTS, then
 *   step 1: RTS with IB_QP_CUR_STATE = SQE on the QP in RTS,
 *   step 2: Error, then RTS with IB_QP_CUR_STATE = SQE on the QP in Error,
 *   step 3: Error, then RTS with IB_QP_CUR_STATE = RTS on the QP in Error
 *           (an RTS to RTS modify, say a Q_Key change, on a QP that a
 *           receive error moved to Error),
 * and logs the result of each and the state ib_query_qp() reports after
 * it.  With the patch each modify fails with -EINVAL and the state stays
 * (RTS, then ERR, then ERR): "rxe_sqe_test: PASS".  Stock rxe accepts all
 * three, and steps 2 and 3 leave a QP in RTS whose receives were flushed;
 * v3 of the patch accepts all three, v4 on 6.12 refuses steps 1 and 2
 * only: "rxe_sqe_test: FAIL".  The QP is destroyed before the init function
 * returns, and the result is also the load status: on PASS the module
 * loads (rmmod it afterwards), on FAIL insmod fails with EINVAL, and
 * without the device with ENODEV.  Build out of tree against the guest
 * kernel's headers: make -C <headers> M=$PWD modules (it needs ib_core
 * only, so Debian's headers do; it builds on 6.12 and 6.1).
 */
#include <linux/module.h>
#include <rdma/ib_verbs.h>

static char *dev = "rxe0";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "name of the rxe device (default rxe0)");

static int sqe_modify(struct ib_qp *qp, enum ib_qp_state state, int mask,
		      enum ib_qp_state cur)
{
	struct ib_qp_attr attr = {
		.qp_state = state,
		.cur_qp_state = cur,
		.pkey_index = 0,
		.port_num = 1,
		.qkey = 0x11111111,
		.sq_psn = 0,
	};

	return ib_modify_qp(qp, &attr, IB_QP_STATE | mask);
}

static int sqe_state(struct ib_qp *qp)
{
	struct ib_qp_init_attr init;
	struct ib_qp_attr attr;
	int err;

	err = ib_query_qp(qp, &attr, IB_QP_STATE, &init);
	return err ? err : attr.qp_state;
}

/* one step: a modify to RTS claiming @claim must fail and leave @want */
static bool sqe_step(struct ib_qp *qp, const char *name,
		     enum ib_qp_state claim, int want)
{
	int err = sqe_modify(qp, IB_QPS_RTS, IB_QP_CUR_STATE, claim);
	int state = sqe_state(qp);

	pr_info("rxe_sqe_test: %s: RTS claiming %s returned %d, state %d after (want -22, %d)\n",
		name, claim == IB_QPS_SQE ? "SQE" : "RTS", err, state, want);
	return err == -EINVAL && state == want;
}

static bool sqe_run(struct ib_qp *qp)
{
	bool ok;

	if (sqe_modify(qp, IB_QPS_INIT, IB_QP_PKEY_INDEX | IB_QP_PORT |
		       IB_QP_QKEY, 0) ||
	    sqe_modify(qp, IB_QPS_RTR, 0, 0) ||
	    sqe_modify(qp, IB_QPS_RTS, IB_QP_SQ_PSN, 0)) {
		pr_err("rxe_sqe_test: could not bring the QP to RTS\n");
		return false;
	}
	ok = sqe_step(qp, "step 1 (QP in RTS)", IB_QPS_SQE, IB_QPS_RTS);
	if (sqe_modify(qp, IB_QPS_ERR, 0, 0)) {
		pr_err("rxe_sqe_test: could not move the QP to Error\n");
		return false;
	}
	ok = sqe_step(qp, "step 2 (QP in ERR)", IB_QPS_SQE, IB_QPS_ERR) && ok;
	/* step 2 may have left it in RTS (stock rxe): back to Error */
	if (sqe_modify(qp, IB_QPS_ERR, 0, 0)) {
		pr_err("rxe_sqe_test: could not move the QP to Error\n");
		return false;
	}
	return sqe_step(qp, "step 3 (QP in ERR)", IB_QPS_RTS, IB_QPS_ERR) && ok;
}

static int __init rxe_sqe_test_init(void)
{
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_UD,
		.sq_sig_type = IB_SIGNAL_ALL_WR,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
	int err = -EINVAL;

	ibdev = ib_device_get_by_name(dev, RDMA_DRIVER_RXE);
	if (!ibdev) {
		pr_err("rxe_sqe_test: no rxe device %s\n", dev);
		return -ENODEV;
	}
	pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(pd)) {
		err = PTR_ERR(pd);
		goto put;
	}
	cq = ib_alloc_cq(ibdev, NULL, 16, 0, IB_POLL_DIRECT);
	if (IS_ERR(cq)) {
		err = PTR_ERR(cq);
		goto pd;
	}
	init.send_cq = cq;
	init.recv_cq = cq;
	qp = ib_create_qp(pd, &init);
	if (IS_ERR(qp)) {
		err = PTR_ERR(qp);
		goto cq;
	}
	if (sqe_run(qp))
		err = 0;
	pr_info("rxe_sqe_test: %s\n", err ? "FAIL" : "PASS");
	ib_destroy_qp(qp);
cq:
	ib_free_cq(cq);
pd:
	ib_dealloc_pd(pd);
put:
	ib_device_put(ibdev);
	return err;
}

static void __exit rxe_sqe_test_exit(void)
{
}

module_init(rxe_sqe_test_init);
module_exit(rxe_sqe_test_exit);
MODULE_DESCRIPTION("rxe: no RTS over Error, and no RTS claiming SQE unless in SQE");
MODULE_LICENSE("GPL");
