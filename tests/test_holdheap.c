/* test_holdheap: the expiry heap of a node's holds. Deadlines must come
 * out earliest first whatever was pushed and removed meanwhile, and a node
 * must know its own place: a hold that is confirmed leaves from the middle
 * by that place, and a stale place must not take another hold out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "holdheap.h"

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Every item knows its place, and no parent is later than its child: what
 * peek and remove rely on, checked from the outside after each change. */
static void
assert_heap_ok(const tr_heap *h)
{
	for (size_t i = 0; i < h->count; i++) {
		assert_int_equal(h->items[i]->index, i);
		if (i > 0)
			assert_true(h->items[(i - 1) / 2]->deadline <=
			    h->items[i]->deadline);
	}
}

/* Peek and remove until empty; the deadlines seen, in order, into out. */
static size_t
drain(tr_heap *h, int64_t *out, size_t cap)
{
	tr_heap_node *n;
	size_t k = 0;

	while ((n = tr_heap_peek(h)) != NULL) {
		assert_true(k < cap);
		out[k++] = n->deadline;
		tr_heap_remove(h, n);
		assert_int_equal(n->index, SIZE_MAX);
		assert_heap_ok(h);
	}
	return k;
}

static void
deadlines_come_out_earliest_first(void **state)
{
	/* More than the first allocation (64), so that it grows. */
	enum { N = 1000 };
	static tr_heap_node nodes[N];
	static int64_t want[N], got[N];
	uint64_t seed = 7;
	tr_heap h;
	(void)state;

	tr_heap_init(&h);
	assert_null(tr_heap_peek(&h));
	for (int i = 0; i < N; i++) {
		tr_heap_node_init(&nodes[i]);
		/* Few distinct values: many equal deadlines. */
		nodes[i].deadline = (int64_t)(lcg(&seed) % 300) - 100;
		want[i] = nodes[i].deadline;
		assert_int_equal(tr_heap_push(&h, &nodes[i]), 0);
		assert_heap_ok(&h);
	}
	assert_int_equal(h.count, N);
	qsort(want, N, sizeof(want[0]), cmp_i64);
	assert_int_equal(drain(&h, got, N), N);
	assert_memory_equal(got, want, sizeof(want));
	assert_null(tr_heap_peek(&h));
	tr_heap_fini(&h);
}

static void
a_hold_leaves_from_the_middle_and_the_order_holds(void **state)
{
	enum { N = 500 };
	static tr_heap_node nodes[N];
	static int64_t want[N], got[N];
	static bool in[N];
	uint64_t seed = 11;
	size_t nwant = 0;
	tr_heap h;
	(void)state;

	tr_heap_init(&h);
	for (int i = 0; i < N; i++) {
		tr_heap_node_init(&nodes[i]);
		nodes[i].deadline = (int64_t)(lcg(&seed) % 100000);
		assert_int_equal(tr_heap_push(&h, &nodes[i]), 0);
		in[i] = true;
	}
	/* Confirms and releases take random holds out; reschedules put
	 * some back with another deadline (as tr_ledger_hold_reschedule
	 * does: remove, then push). */
	for (int step = 0; step < 4 * N; step++) {
		int i = (int)(lcg(&seed) % N);
		if (in[i]) {
			tr_heap_remove(&h, &nodes[i]);
			assert_int_equal(nodes[i].index, SIZE_MAX);
			in[i] = false;
		} else {
			nodes[i].deadline = (int64_t)(lcg(&seed) % 100000);
			assert_int_equal(tr_heap_push(&h, &nodes[i]), 0);
			in[i] = true;
		}
		assert_heap_ok(&h);
	}
	for (int i = 0; i < N; i++)
		if (in[i])
			want[nwant++] = nodes[i].deadline;
	assert_int_equal(h.count, nwant);
	qsort(want, nwant, sizeof(want[0]), cmp_i64);
	assert_int_equal(drain(&h, got, N), nwant);
	assert_memory_equal(got, want, nwant * sizeof(want[0]));
	tr_heap_fini(&h);
}

static void
removing_a_node_that_is_not_there_takes_nothing_out(void **state)
{
	tr_heap_node a, b, c, never, other;
	tr_heap h, h2;
	(void)state;

	tr_heap_init(&h);
	tr_heap_init(&h2);
	tr_heap_node_init(&a);
	tr_heap_node_init(&b);
	tr_heap_node_init(&c);
	tr_heap_node_init(&never);
	tr_heap_node_init(&other);
	a.deadline = 10;
	b.deadline = 20;
	c.deadline = 30;
	other.deadline = 5;
	assert_int_equal(tr_heap_push(&h, &a), 0);
	assert_int_equal(tr_heap_push(&h, &b), 0);
	assert_int_equal(tr_heap_push(&h, &c), 0);
	/* Slot 0 of another heap: its index is in range here. */
	assert_int_equal(tr_heap_push(&h2, &other), 0);
	assert_int_equal(other.index, 0);

	tr_heap_remove(&h, &never);
	tr_heap_remove(&h, &other);
	assert_int_equal(h.count, 3);
	assert_ptr_equal(tr_heap_peek(&h), &a);
	assert_ptr_equal(tr_heap_peek(&h2), &other);
	/* Removed twice (a confirm after an expiry took it out): the
	 * second time is nothing. */
	tr_heap_remove(&h, &a);
	tr_heap_remove(&h, &a);
	assert_int_equal(h.count, 2);
	assert_ptr_equal(tr_heap_peek(&h), &b);
	assert_heap_ok(&h);
	/* The last one leaves without moving anybody. */
	tr_heap_remove(&h, &c);
	assert_int_equal(h.count, 1);
	assert_ptr_equal(tr_heap_peek(&h), &b);
	assert_int_equal(b.index, 0);
	tr_heap_fini(&h);
	tr_heap_fini(&h2);
	assert_null(tr_heap_peek(&h));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(deadlines_come_out_earliest_first),
	    cmocka_unit_test(
	        a_hold_leaves_from_the_middle_and_the_order_holds),
	    cmocka_unit_test(
	        removing_a_node_that_is_not_there_takes_nothing_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
