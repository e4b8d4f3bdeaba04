/* holdheap: array-backed binary min-heap with positions kept in the items,
 * so that a confirmed or released hold leaves in O(log n). */
#include "holdheap.h"

#include <stdlib.h>

#include "tr_err.h"

void
tr_heap_init(tr_heap *h)
{
	h->items = NULL;
	h->count = h->cap = 0;
}

void
tr_heap_fini(tr_heap *h)
{
	free(h->items);
	tr_heap_init(h);
}

void
tr_heap_node_init(tr_heap_node *n)
{
	n->deadline = 0;
	n->index = SIZE_MAX;
}

static void
place(tr_heap *h, size_t i, tr_heap_node *n)
{
	h->items[i] = n;
	n->index = i;
}

static void
sift_up(tr_heap *h, size_t i)
{
	tr_heap_node *n = h->items[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->items[parent]->deadline <= n->deadline)
			break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, n);
}

static void
sift_down(tr_heap *h, size_t i)
{
	tr_heap_node *n = h->items[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->count)
			break;
		if (child + 1 < h->count &&
		    h->items[child + 1]->deadline < h->items[child]->deadline)
			child++;
		if (n->deadline <= h->items[child]->deadline)
			break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, n);
}

int
tr_heap_push(tr_heap *h, tr_heap_node *n)
{
	if (h->count == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		tr_heap_node **items = realloc(h->items, cap * sizeof(*items));
		if (items == NULL)
			return TR_ENOMEM;
		h->items = items;
		h->cap = cap;
	}
	h->items[h->count] = n;
	n->index = h->count++;
	sift_up(h, n->index);
	return 0;
}

void
tr_heap_remove(tr_heap *h, tr_heap_node *n)
{
	size_t i = n->index;
	tr_heap_node *last;

	if (i == SIZE_MAX || i >= h->count || h->items[i] != n)
		return;
	n->index = SIZE_MAX;
	last = h->items[--h->count];
	if (last == n)
		return;
	place(h, i, last);
	if (i > 0 && h->items[(i - 1) / 2]->deadline > last->deadline)
		sift_up(h, i);
	else
		sift_down(h, i);
}

tr_heap_node *
tr_heap_peek(const tr_heap *h)
{
	return h->count ? h->items[0] : NULL;
}
