/* wrr: nginx's smooth weighted round-robin (each pick: every candidate's
 * current weight grows by its effective weight; the largest wins and loses
 * the total), with the same failure rules. */
#include "wrr.h"

#include <string.h>

void
tr_wrr_init(tr_wrr *w)
{
	memset(w, 0, sizeof(*w));
}

int
tr_wrr_add(tr_wrr *w, const char *id, int weight, int max_fails,
    int64_t fail_timeout_ms)
{
	tr_wrr_peer *p;

	if (w->n == TR_NODES_MAX || weight < 1 || weight > 1000 ||
	    max_fails < 0 || !tr_node_id_valid(id) || tr_wrr_find(w, id) >= 0)
		return -1;
	p = &w->peers[w->n];
	memset(p, 0, sizeof(*p));
	strcpy(p->id, id);
	p->weight = p->effective_weight = weight;
	p->max_fails = max_fails;
	p->fail_timeout_ms = fail_timeout_ms;
	return w->n++;
}

int
tr_wrr_find(const tr_wrr *w, const char *id)
{
	for (int i = 0; i < w->n; i++)
		if (strcmp(w->peers[i].id, id) == 0)
			return i;
	return -1;
}

bool
tr_wrr_usable(const tr_wrr *w, int i, int64_t now_ms)
{
	const tr_wrr_peer *p = &w->peers[i];
	if (p->disconnected)
		return false;
	/* Failed max_fails times within fail_timeout: out until it ends. */
	if (p->max_fails && p->fails >= p->max_fails &&
	    now_ms - p->checked_ms <= p->fail_timeout_ms)
		return false;
	return true;
}

int
tr_wrr_pick(tr_wrr *w, tr_node_mask exclude, int64_t now_ms)
{
	tr_wrr_peer *best = NULL;
	int total = 0, best_i = -1;

	for (int i = 0; i < w->n; i++) {
		tr_wrr_peer *p = &w->peers[i];
		if ((exclude >> i) & 1 || !tr_wrr_usable(w, i, now_ms))
			continue;
		p->current_weight += p->effective_weight;
		total += p->effective_weight;
		if (p->effective_weight < p->weight)
			p->effective_weight++;
		if (best == NULL || p->current_weight > best->current_weight) {
			best = p;
			best_i = i;
		}
	}
	if (best == NULL)
		return -1;
	best->current_weight -= total;
	/* A peer picked after its failure window starts a new one. */
	if (now_ms - best->checked_ms > best->fail_timeout_ms)
		best->checked_ms = now_ms;
	best->picks++;
	return best_i;
}

void
tr_wrr_failed(tr_wrr *w, int i, int64_t now_ms)
{
	tr_wrr_peer *p = &w->peers[i];
	p->fails++;
	p->accessed_ms = now_ms;
	p->checked_ms = now_ms;
	if (p->max_fails) {
		p->effective_weight -= p->weight / p->max_fails;
		if (p->effective_weight < 0)
			p->effective_weight = 0;
	}
}

void
tr_wrr_succeeded(tr_wrr *w, int i, int64_t now_ms)
{
	tr_wrr_peer *p = &w->peers[i];
	(void)now_ms;
	/* A success after the last failure's window began clears fails. */
	if (p->accessed_ms < p->checked_ms)
		p->fails = 0;
}

void
tr_wrr_set_connected(tr_wrr *w, int i, bool connected)
{
	w->peers[i].disconnected = !connected;
}
