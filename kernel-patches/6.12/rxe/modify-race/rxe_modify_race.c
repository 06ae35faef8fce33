// SPDX-License-Identifier: GPL-2.0
/*
 * Not part of the rxe set: a test module for rxe patch 2 ("serialize
 * modify_qp on one QP").  It modifies one kernel RC QP on the rxe device
 * named by "dev" from three kernel threads at once, for "seconds" seconds:
 *   two threads: IB_QP_MAX_DEST_RD_ATOMIC alone, alternating 1 and 64
 *                (free_rd_atomic_resources() and a new array each time),
 *   one thread:  Reset, then Init (rxe_qp_reset() walks that array).
 * Without the patch these can free the responder's resource array twice,
 * or under the Reset's walk; KASAN reports that if the race is lost.  With
 * the patch the modifies are serialized and lockdep checks the assertions
 * in rxe_disable_task() and rxe_enable_task().  The module itself judges
 * nothing but its own setup: it logs how many modifies each thread made
 * and how many failed, and the kernel log (KASAN, lockdep, WARN) is the
 * result.  On a single CPU without kernel preemption the threads switch
 * only where the code sleeps or calls cond_resched(), so the windows of
 * the stock code cannot be hit there; that run shows the patched code
 * under contention, not the bug.
 *
 * Loads and stays loaded on success (rmmod it afterwards); insmod fails if
 * the QP cannot be set up.  Build out of tree against the kernel's build
 * tree: make -C <build> M=$PWD modules.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <rdma/ib_verbs.h>

static char *dev = "rxe0";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "name of the rxe device (default rxe0)");

static unsigned int seconds = 10;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "how long the threads modify the QP (default 10)");

struct race_thread {
	struct task_struct *task;
	struct ib_qp *qp;
	unsigned long done;
	unsigned long failed;
};

static int race_to_init(struct ib_qp *qp)
{
	struct ib_qp_attr attr = {
		.qp_state = IB_QPS_INIT,
		.pkey_index = 0,
		.port_num = 1,
		.qp_access_flags = IB_ACCESS_REMOTE_READ,
	};

	return ib_modify_qp(qp, &attr, IB_QP_STATE | IB_QP_PKEY_INDEX |
			    IB_QP_PORT | IB_QP_ACCESS_FLAGS);
}

static int race_rd_atomic(void *data)
{
	struct race_thread *t = data;
	struct ib_qp_attr attr = {};

	while (!kthread_should_stop()) {
		attr.max_dest_rd_atomic = t->done & 1 ? 64 : 1;
		if (ib_modify_qp(t->qp, &attr, IB_QP_MAX_DEST_RD_ATOMIC))
			t->failed++;
		t->done++;
		cond_resched();
	}
	return 0;
}

static int race_reset(void *data)
{
	struct race_thread *t = data;
	struct ib_qp_attr attr = { .qp_state = IB_QPS_RESET };

	while (!kthread_should_stop()) {
		if (ib_modify_qp(t->qp, &attr, IB_QP_STATE) ||
		    race_to_init(t->qp))
			t->failed++;
		t->done++;
		cond_resched();
	}
	return 0;
}

static void race_run(struct ib_qp *qp)
{
	static const char * const names[] = { "rd_atomic", "rd_atomic", "reset" };
	struct race_thread t[3] = {};
	int i;

	for (i = 0; i < 3; i++) {
		t[i].qp = qp;
		t[i].task = kthread_run(i < 2 ? race_rd_atomic : race_reset,
					&t[i], "rxe_race_%d", i);
		if (IS_ERR(t[i].task)) {
			pr_err("rxe_modify_race: no thread %d\n", i);
			t[i].task = NULL;
		}
	}
	msleep(seconds * 1000);
	for (i = 0; i < 3; i++) {
		if (!t[i].task)
			continue;
		kthread_stop(t[i].task);
		pr_info("rxe_modify_race: thread %d (%s): %lu modifies, %lu failed\n",
			i, names[i], t[i].done, t[i].failed);
	}
}

static int __init rxe_modify_race_init(void)
{
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_ALL_WR,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
	int err;

	ibdev = ib_device_get_by_name(dev, RDMA_DRIVER_RXE);
	if (!ibdev) {
		pr_err("rxe_modify_race: no rxe device %s\n", dev);
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
	err = race_to_init(qp);
	if (err) {
		pr_err("rxe_modify_race: could not bring the QP to Init: %d\n", err);
	} else {
		pr_info("rxe_modify_race: start, %u s\n", seconds);
		race_run(qp);
		pr_info("rxe_modify_race: done\n");
	}
	ib_destroy_qp(qp);
cq:
	ib_free_cq(cq);
pd:
	ib_dealloc_pd(pd);
put:
	ib_device_put(ibdev);
	return err;
}

static void __exit rxe_modify_race_exit(void)
{
}

module_init(rxe_modify_race_init);
module_exit(rxe_modify_race_exit);
MODULE_DESCRIPTION("rxe: concurrent modifies of one RC QP (max_dest_rd_atomic, reset)");
MODULE_LICENSE("GPL");
