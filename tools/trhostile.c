/* trhostile: hostile HTTP clients against the gateway, for
 * scripts/bench-hostile. One epoll thread keeps, for --seconds:
 *
 *   --slow N        N connections that send a valid request head one byte
 *                   a second (a slowloris); reconnected when closed
 *   --garbage N     N connections at a time that send random bytes, not
 *                   HTTP, then wait for the close
 *   --big-heads N   N connections at a time that send a request with a
 *                   64 KB header, then read the answer
 *   --big-bodies N  N connections at a time that announce and stream a
 *                   10 MB body (64 KB every 50 ms), then read the answer
 *   --rate R        at most R new connections a second of each kind but
 *                   the slow ones (default 20): hostile, not a flood of its
 *                   own
 *
 * It prints one JSON line of what it did and what it got back. Bounded:
 * --seconds (at most 600), at most 20,000 connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tr_clock.h"

#define CONNS_MAX 20000
#define BIG_HEAD (64 * 1024)
#define BIG_BODY (10 * 1024 * 1024)

enum kind { K_SLOW, K_GARBAGE, K_HEAD, K_BODY, K_COUNT };
static const char *const kind_name[K_COUNT] = {"slow", "garbage", "big_head",
    "big_body"};

struct conn {
	enum kind kind;
	int fd;
	size_t sent;     /* bytes of its request sent */
	size_t total;    /* bytes it means to send */
	int64_t next_ms; /* slow: when the next byte goes */
	bool reading;
	bool in_use;
};

static struct conn conns[CONNS_MAX];
static struct sockaddr_in target;
static int epfd;
static char *head_req, *body_head, *chunk;
static size_t head_req_len, body_head_len;
static const char slow_req[] =
    "POST /v1/events/GONE/reservations HTTP/1.1\r\n"
    "Host: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n"
    "\r\n{\"user\":\"s1\"}";

static struct {
	uint64_t opened[K_COUNT], closed_by_server[K_COUNT];
	uint64_t answers[K_COUNT], connect_failed, bytes_sent;
	uint64_t status[K_COUNT][6]; /* 1xx..5xx, other */
} st;

static int
conn_open(enum kind k)
{
	int fd, one = 1;
	struct epoll_event ev = {0};
	struct conn *c = NULL;

	for (int i = 0; i < CONNS_MAX; i++)
		if (!conns[i].in_use) {
			c = &conns[i];
			ev.data.u32 = (uint32_t)i;
			break;
		}
	if (c == NULL)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&target, sizeof(target)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		st.connect_failed++;
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->kind = k;
	c->fd = fd;
	c->in_use = true;
	c->total = k == K_SLOW ? sizeof(slow_req) - 1
	    : k == K_GARBAGE   ? 1024
	    : k == K_HEAD      ? head_req_len
	                       : body_head_len + BIG_BODY;
	c->next_ms = tr_mono_ms();
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	st.opened[k]++;
	return 0;
}

static void
conn_close(struct conn *c, bool by_server)
{
	if (by_server)
		st.closed_by_server[c->kind]++;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->in_use = false;
}

/* What to send next from c's request. */
static const char *
next_bytes(struct conn *c, size_t *len)
{
	static char garbage[1024];
	switch (c->kind) {
	case K_SLOW:
		*len = 1;
		return slow_req + c->sent % (sizeof(slow_req) - 1);
	case K_GARBAGE:
		for (size_t i = 0; i < sizeof(garbage); i++)
			garbage[i] = (char)(rand() & 0xff);
		*len = c->total - c->sent;
		return garbage + c->sent;
	case K_HEAD: *len = c->total - c->sent; return head_req + c->sent;
	default:
		if (c->sent < body_head_len) {
			*len = body_head_len - c->sent;
			return body_head + c->sent;
		}
		*len = c->total - c->sent;
		if (*len > 65536)
			*len = 65536;
		return chunk;
	}
}

static void
on_writable(struct conn *c, int64_t now)
{
	size_t len;
	const char *p;
	ssize_t n;

	if (c->reading || c->sent >= c->total)
		return;
	if ((c->kind == K_SLOW || c->kind == K_BODY) && now < c->next_ms)
		return;
	p = next_bytes(c, &len);
	n = send(c->fd, p, len, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_close(c, true);
		return;
	}
	c->sent += (size_t)n;
	st.bytes_sent += (uint64_t)n;
	if (c->kind == K_SLOW) {
		c->next_ms = now + 1000;
		if (c->sent >= c->total)
			c->sent = 0; /* never done: start over */
	} else if (c->kind == K_BODY && c->sent < c->total) {
		c->next_ms = now + 50;
	} else if (c->sent >= c->total) {
		c->reading = true;
	}
}

static void
on_readable(struct conn *c)
{
	char buf[4096];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
	if (n > 0) {
		int code;
		if (sscanf(buf, "HTTP/1.%*d %d", &code) == 1) {
			int k = code >= 100 && code < 600 ? code / 100 - 1 : 5;
			st.answers[c->kind]++;
			st.status[c->kind][k]++;
		}
		/* An answer ends our part; the server may close first. */
		conn_close(c, false);
		return;
	}
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		conn_close(c, true);
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {{"port", 1, NULL, 'p'},
	    {"seconds", 1, NULL, 's'}, {"slow", 1, NULL, 'l'},
	    {"garbage", 1, NULL, 'g'}, {"big-heads", 1, NULL, 'H'},
	    {"big-bodies", 1, NULL, 'B'}, {"rate", 1, NULL, 'R'},
	    {NULL, 0, NULL, 0}};
	long want[K_COUNT] = {1000, 4, 2, 2};
	long rate = 20, opened_this_second[K_COUNT] = {0};
	int64_t second_start = 0;
	long port = 0, seconds = 10;
	struct rlimit rl = {CONNS_MAX + 64, CONNS_MAX + 64};
	struct epoll_event evs[256];
	int64_t end;
	int c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		long v = strtol(optarg, NULL, 10);
		switch (c) {
		case 'p': port = v; break;
		case 's': seconds = v; break;
		case 'l': want[K_SLOW] = v; break;
		case 'g': want[K_GARBAGE] = v; break;
		case 'H': want[K_HEAD] = v; break;
		case 'B': want[K_BODY] = v; break;
		case 'R': rate = v; break;
		default:
			fprintf(stderr,
			    "usage: trhostile --port P [--seconds "
			    "S] [--slow N] [--garbage N] [--big-heads N] "
			    "[--big-bodies N] [--rate R]\n");
			return 2;
		}
	}
	if (port < 1 || port > 65535 || seconds < 1 || seconds > 600 ||
	    rate < 1 || rate > 100000 ||
	    want[K_SLOW] + want[K_GARBAGE] + want[K_HEAD] + want[K_BODY] >
	        CONNS_MAX) {
		fprintf(stderr,
		    "trhostile: --port 1..65535, --seconds 1..600, "
		    "at most %d connections\n",
		    CONNS_MAX);
		return 2;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)port);
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The requests. */
	head_req = malloc(BIG_HEAD + 256);
	chunk = calloc(1, 65536);
	body_head = malloc(256);
	if (head_req == NULL || chunk == NULL || body_head == NULL)
		return 1;
	head_req_len = (size_t)sprintf(head_req,
	    "GET /healthz HTTP/1.1\r\n"
	    "Host: x\r\nX-Big: ");
	memset(head_req + head_req_len, 'a', BIG_HEAD);
	head_req_len += BIG_HEAD;
	head_req_len += (size_t)sprintf(head_req + head_req_len, "\r\n\r\n");
	body_head_len = (size_t)sprintf(body_head,
	    "POST /v1/events/GONE/"
	    "reservations HTTP/1.1\r\nHost: x\r\nContent-Type: "
	    "application/json\r\nContent-Length: %d\r\n\r\n",
	    BIG_BODY);
	memset(chunk, ' ', 65536);
	if ((epfd = epoll_create1(0)) < 0)
		return 1;
	end = tr_mono_ms() + seconds * 1000;
	while (tr_mono_ms() < end) {
		long have[K_COUNT] = {0};
		int64_t now = tr_mono_ms();
		int n;
		for (int i = 0; i < CONNS_MAX; i++)
			if (conns[i].in_use)
				have[conns[i].kind]++;
		/* Keep the numbers up: at most 200 new connections a turn,
		 * and `rate` a second of each kind but the slow ones. */
		if (now - second_start >= 1000) {
			second_start = now;
			memset(opened_this_second, 0,
			    sizeof(opened_this_second));
		}
		for (int k = 0, budget = 200; k < K_COUNT; k++)
			for (; have[k] < want[k] && budget > 0 &&
			     (k == K_SLOW || opened_this_second[k] < rate);
			     have[k]++, budget--, opened_this_second[k]++)
				if (conn_open((enum kind)k) != 0)
					break;
		n = epoll_wait(epfd, evs, 256, 50);
		for (int i = 0; i < n; i++) {
			struct conn *cn = &conns[evs[i].data.u32];
			if (!cn->in_use)
				continue;
			if (evs[i].events &
			    (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				on_readable(cn);
			if (cn->in_use && (evs[i].events & EPOLLOUT))
				on_writable(cn, now);
		}
		/* Slow clients and bodies write on their own clock. */
		for (int i = 0; i < CONNS_MAX; i++)
			if (conns[i].in_use &&
			    (conns[i].kind == K_SLOW ||
			        conns[i].kind == K_BODY))
				on_writable(&conns[i], now);
	}
	printf("{\"seconds\":%ld,\"rate\":%ld,\"bytes_sent\":%" PRIu64
	       ",\"connect_failed\":%" PRIu64,
	    seconds, rate, st.bytes_sent, st.connect_failed);
	for (int k = 0; k < K_COUNT; k++)
		printf(",\"%s\":{\"opened\":%" PRIu64
		       ",\"closed_by_server\":%" PRIu64 ",\"answers\":%" PRIu64
		       ",\"4xx\":%" PRIu64 ",\"other\":%" PRIu64 "}",
		    kind_name[k], st.opened[k], st.closed_by_server[k],
		    st.answers[k], st.status[k][3],
		    st.answers[k] - st.status[k][3]);
	printf("}\n");
	return 0;
}
