/* buy: a small service that sells one ticket through libticketrush, the
 * way a checkout service would: reserve (safe to retry with the same
 * request id), then confirm with the payment's reference.
 *
 *   buy URL EVENT USER [PAYMENT_REF]
 *
 * URL is a stock node's data socket (tcp://127.0.0.1:7001). Prints the
 * order; exit 0 sold, 1 refused (sold out, closed, ...), 2 usage,
 * 3 no node answered. Built against the installed library only:
 * examples/c/Makefile (pkg-config) and examples/c/CMakeLists.txt
 * (find_package). */
#include <stdio.h>
#include <string.h>

#include <ticketrush/tr_client.h>

/* A retried call must make no second hold: the same request id each
 * time. */
#define ATTEMPTS 3

static int
refused(const char *what, int rv, const Ticketrush__Reply *rep)
{
	fprintf(stderr, "buy: %s refused: %s%s%s\n", what, tr_strerror(rv),
	    rep && rep->detail[0] ? ": " : "", rep ? rep->detail : "");
	return 1;
}

int
main(int argc, char **argv)
{
	const char *url, *event, *user, *ref;
	char rid[128], request_id[96];
	Ticketrush__Reply *rep = NULL;
	tr_client *c;
	int rv = TR_EUNAVAILABLE, i;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: buy URL EVENT USER [PAYMENT_REF]\n");
		return 2;
	}
	url = argv[1];
	event = argv[2];
	user = argv[3];
	ref = argc == 5 ? argv[4] : "PAY-example";
	snprintf(request_id, sizeof(request_id), "buy-%s", user);
	if (tr_client_open(url, 2000, &c) != 0) {
		fprintf(stderr, "buy: bad URL %s\n", url);
		return 2;
	}
	for (i = 0; i < ATTEMPTS && rep == NULL; i++)
		rv = tr_client_reserve(c, event, user, 1, request_id, &rep);
	if (rep == NULL) {
		fprintf(stderr, "buy: no answer from %s: %s\n", url,
		    tr_strerror(rv));
		tr_client_close(c);
		return 3;
	}
	if (rv != 0) {
		rv = refused("reservation", rv, rep);
		goto out;
	}
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	printf("reserved %s until %lld (unix ms)\n", rid,
	    (long long)rep->hold->expires_at_ms);
	tr_reply_free(rep);
	rep = NULL;
	/* Confirming is idempotent on the reservation id. */
	for (i = 0; i < ATTEMPTS && rep == NULL; i++)
		rv = tr_client_confirm(c, rid, user, ref, &rep);
	if (rep == NULL) {
		fprintf(stderr,
		    "buy: no answer to the confirm: %s; the hold "
		    "stays until it expires\n",
		    tr_strerror(rv));
		tr_client_close(c);
		return 3;
	}
	if (rv != 0) {
		rv = refused("confirm", rv, rep);
		goto out;
	}
	printf("order %s: %u ticket(s) of %s for %s, paid %s\n",
	    rep->order->order_id, rep->order->qty, rep->order->event_id,
	    rep->order->user_id, rep->order->payment_ref);
out:
	tr_reply_free(rep);
	tr_client_close(c);
	return rv;
}
