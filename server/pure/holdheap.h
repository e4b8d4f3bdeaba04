/* holdheap: a binary min-heap of deadlines, for expiring holds without
 * scanning them all. Pure logic. */
#ifndef TR_HOLDHEAP_H
#define TR_HOLDHEAP_H

#include <stddef.h>
#include <stdint.h>

/* Embed one in each item. `index` is the item's position, or SIZE_MAX while
 * it is not in a heap (set by tr_heap_node_init). */
typedef struct tr_heap_node {
	int64_t deadline;
	size_t index;
} tr_heap_node;

typedef struct tr_heap {
	tr_heap_node **items;
	size_t count;
	size_t cap;
} tr_heap;

void tr_heap_init(tr_heap *h);
void tr_heap_fini(tr_heap *h);
void tr_heap_node_init(tr_heap_node *n);

/* Insert n (not in any heap) with its deadline. Returns 0 or TR_ENOMEM
 * (heap unchanged). */
int tr_heap_push(tr_heap *h, tr_heap_node *n);

/* Remove n if it is in the heap; no-op otherwise. O(log n). */
void tr_heap_remove(tr_heap *h, tr_heap_node *n);

/* The earliest node, or NULL if empty. */
tr_heap_node *tr_heap_peek(const tr_heap *h);

#endif
