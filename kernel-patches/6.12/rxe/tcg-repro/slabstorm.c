// SPDX-License-Identifier: GPL-2.0
/*
 * Not part of the rxe set: a stress module that shows the 6.12 "slab
 * corruption" under rxe_init_packet() needs neither rxe nor the network.
 *
 * A kthread allocates and frees kmalloc-2k objects and skbs in process
 * context while a hard-irq hrtimer on the same CPU allocates and frees the
 * same caches.  The timer lands between SLUB's read of the per-CPU freelist
 * and its cmpxchg16b often, so the fastpath fails its cmpxchg16b and retries
 * many times a second: the path of both lab crashes.
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/hrtimer.h>
#include <linux/slab.h>
#include <linux/skbuff.h>
#include <linux/sched.h>

static unsigned int period_us = 20;
module_param(period_us, uint, 0444);
MODULE_PARM_DESC(period_us, "hrtimer period in microseconds");

static struct task_struct *worker;
static struct hrtimer timer;
static void *held[8];
static unsigned long ticks, loops;

static enum hrtimer_restart tick(struct hrtimer *t)
{
	unsigned int i = ticks++ & 7;

	kfree(held[i]);
	held[i] = kmalloc(2048, GFP_ATOMIC);
	if (ticks & 1)
		kfree_skb(alloc_skb(1500, GFP_ATOMIC));
	hrtimer_forward_now(t, ns_to_ktime(period_us * 1000ULL));
	return HRTIMER_RESTART;
}

static int work(void *arg)
{
	while (!kthread_should_stop()) {
		void *a = kmalloc(2048, GFP_ATOMIC);
		struct sk_buff *skb = alloc_skb(1024, GFP_ATOMIC);
		void *b = kmalloc(2048, GFP_ATOMIC);

		kfree(a);
		kfree_skb(skb);
		kfree(b);
		if ((++loops & 0x3ffff) == 0)
			pr_info("slabstorm: %lu loops %lu ticks\n", loops, ticks);
		if ((loops & 0xff) == 0)
			cond_resched();
	}
	return 0;
}

static int __init slabstorm_init(void)
{
	hrtimer_init(&timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	timer.function = tick;
	hrtimer_start(&timer, ns_to_ktime(period_us * 1000ULL),
		      HRTIMER_MODE_REL_HARD);
	worker = kthread_run(work, NULL, "slabstorm");
	if (IS_ERR(worker)) {
		hrtimer_cancel(&timer);
		return PTR_ERR(worker);
	}
	return 0;
}

static void __exit slabstorm_exit(void)
{
	int i;

	kthread_stop(worker);
	hrtimer_cancel(&timer);
	for (i = 0; i < ARRAY_SIZE(held); i++)
		kfree(held[i]);
}

module_init(slabstorm_init);
module_exit(slabstorm_exit);
MODULE_DESCRIPTION("SLUB fastpath vs hard-irq allocation stress (TCG repro)");
MODULE_LICENSE("GPL");
