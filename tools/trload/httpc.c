/* httpc: HTTP/1.1 answer parser, keep-alive connection state machine and
 * a scanner for the few JSON fields a load generator reads. */
#include "httpc.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tr_err.h"

enum { FR_NONE, FR_LENGTH, FR_CHUNKED, FR_CLOSE };

/* A body we are willing to wait for; anything bigger is not our API. */
#define BODY_MAX ((uint64_t)1 << 32)
/* A chunk-size line, extensions included, longer than this is garbage. */
#define CHUNK_LINE_MAX 256

const char *
tl_xport_name(int kind)
{
	static const char *names[TL_XP_COUNT] = {"refused", "reset", "closed",
	    "timeout", "protocol", "other"};
	return kind >= 0 && kind < TL_XP_COUNT ? names[kind] : "other";
}

/* ---- Parser ----------------------------------------------------------- */

void
tl_http_resp_reset(tl_http_resp *r)
{
	memset(r, 0, sizeof(*r));
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static bool
name_is(const char *name, size_t n, const char *want)
{
	size_t i;

	for (i = 0; i < n && want[i]; i++)
		if (lower((unsigned char)name[i]) != want[i])
			return false;
	return i == n && want[i] == '\0';
}

/* Does the comma-separated value hold token (case-insensitive)? */
static bool
has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < n) {
		size_t s, e;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && name_is(v + s, tl, token))
			return true;
	}
	return false;
}

static bool
is_tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') ||
	    (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Parse the status line and headers in buf[0..head_len). */
static int
parse_head(tl_http_resp *r, const char *buf, size_t head_len)
{
	const char *p = buf, *end = buf + head_len - 2; /* before last CRLF */
	bool have_len = false, chunked = false, has_te = false;
	uint64_t len = 0;

	/* "HTTP/1.x SSS[ reason]\r\n" */
	if (head_len < 14 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return TR_EPROTO;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return TR_EPROTO;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (r->status < 100 || r->status > 599)
		return TR_EPROTO;
	r->keep_alive = p[7] == '1';
	if (p[12] != ' ' && p[12] != '\r')
		return TR_EPROTO;
	p = memchr(p, '\n', (size_t)(end - p));
	if (p == NULL || p[-1] != '\r')
		return TR_EPROTO;
	p++;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end + 2 - p));
		const char *colon, *v, *ve;

		if (eol == NULL || eol == p || eol[-1] != '\r')
			return TR_EPROTO;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p)
			return TR_EPROTO;
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return TR_EPROTO;
		v = colon + 1;
		ve = eol - 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (name_is(p, (size_t)(colon - p), "content-length")) {
			uint64_t n = 0;
			if (v == ve)
				return TR_EPROTO;
			for (const char *q = v; q < ve; q++) {
				if (*q < '0' || *q > '9' || n > BODY_MAX)
					return TR_EPROTO;
				n = n * 10 + (uint64_t)(*q - '0');
			}
			/* Two different lengths: a smuggling attempt or a
			 * broken server; either way we cannot frame it. */
			if (n > BODY_MAX || (have_len && n != len))
				return TR_EPROTO;
			have_len = true;
			len = n;
		} else if (name_is(p, (size_t)(colon - p),
		               "transfer-encoding")) {
			has_te = true;
			chunked = has_token(v, (size_t)(ve - v), "chunked");
		} else if (name_is(p, (size_t)(colon - p), "connection")) {
			if (has_token(v, (size_t)(ve - v), "close"))
				r->keep_alive = false;
			else if (has_token(v, (size_t)(ve - v), "keep-alive"))
				r->keep_alive = true;
		}
		p = eol + 1;
	}

	if (r->status < 200 || r->status == 204 || r->status == 304) {
		r->framing = FR_NONE;
	} else if (has_te) {
		/* Transfer-Encoding wins over Content-Length (RFC 9112 6.3);
		 * a coding we cannot decode is read to the close. */
		r->framing = chunked ? FR_CHUNKED : FR_CLOSE;
	} else if (have_len) {
		r->framing = FR_LENGTH;
		r->content_length = len;
	} else {
		r->framing = FR_CLOSE;
	}
	if (r->framing == FR_CLOSE)
		r->keep_alive = false;
	r->head_len = head_len;
	r->chunk_at = head_len;
	return 0;
}

/* Parse a chunk-size line at buf[at..len): 0 and *size, *data_at when
 * whole; 1 when more bytes are needed; TR_EPROTO on garbage. */
static int
chunk_line(const char *buf, size_t at, size_t len, uint64_t *size,
    size_t *data_at)
{
	size_t i = at, digits = 0;
	uint64_t n = 0;
	const char *eol;

	for (; i < len && digits <= 15; i++, digits++) {
		int ch = lower((unsigned char)buf[i]);
		if (ch >= '0' && ch <= '9')
			n = n * 16 + (uint64_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			n = n * 16 + (uint64_t)(ch - 'a' + 10);
		else
			break;
	}
	if (i == len)
		return len - at > CHUNK_LINE_MAX ? TR_EPROTO : 1;
	if (digits == 0 || digits > 15 || n > BODY_MAX)
		return TR_EPROTO;
	if (buf[i] != ';' && buf[i] != '\r')
		return TR_EPROTO;
	eol = memchr(buf + i, '\n', len - i);
	if (eol == NULL)
		return len - at > CHUNK_LINE_MAX ? TR_EPROTO : 1;
	if (eol[-1] != '\r' || (size_t)(eol - buf) - at > CHUNK_LINE_MAX)
		return TR_EPROTO;
	*size = n;
	*data_at = (size_t)(eol - buf) + 1;
	return 0;
}

static int
parse_chunked(tl_http_resp *r, char *buf, size_t len)
{
	for (;;) {
		uint64_t size;
		size_t data_at, end, dst, at;
		int rv = chunk_line(buf, r->chunk_at, len, &size, &data_at);

		if (rv != 0)
			return rv == 1 ? 0 : rv;
		if (size > 0) {
			if (len - data_at < size + 2)
				return 0;
			if (buf[data_at + size] != '\r' ||
			    buf[data_at + size + 1] != '\n')
				return TR_EPROTO;
			r->chunk_data += size;
			r->chunk_at = data_at + size + 2;
			continue;
		}
		/* Last chunk: an empty line, or trailers ending in one. */
		if (len - data_at < 2)
			return 0;
		if (buf[data_at] == '\r' && buf[data_at + 1] == '\n') {
			end = data_at + 2;
		} else {
			const char *t = memmem(buf + data_at, len - data_at,
			    "\r\n\r\n", 4);
			if (t == NULL)
				return 0;
			end = (size_t)(t - buf) + 4;
		}
		/* Squeeze the framing out: every line was checked above. */
		at = r->head_len;
		dst = r->head_len;
		for (;;) {
			(void)chunk_line(buf, at, len, &size, &data_at);
			if (size == 0)
				break;
			memmove(buf + dst, buf + data_at, size);
			dst += size;
			at = data_at + size + 2;
		}
		r->body = buf + r->head_len;
		r->body_len = r->chunk_data;
		r->total_len = end;
		return TL_HTTP_DONE;
	}
}

int
tl_http_parse(tl_http_resp *r, char *buf, size_t len, bool eof)
{
	int rv;

	if (r->head_len == 0) {
		const char *e;
		/* Refuse garbage at its first bytes rather than waiting for a
		 * head end that never comes. */
		size_t n = len < 5 ? len : 5;
		if (memcmp(buf, "HTTP/", n) != 0)
			return TR_EPROTO;
		e = len >= 4 && r->scanned <= len - 4
		    ? memmem(buf + r->scanned, len - r->scanned, "\r\n\r\n", 4)
		    : NULL;
		if (e == NULL) {
			r->scanned = len > 3 ? len - 3 : 0;
			return eof ? TR_EPROTO : 0;
		}
		if ((rv = parse_head(r, buf, (size_t)(e - buf) + 4)) != 0)
			return rv;
	}
	switch (r->framing) {
	case FR_NONE:
		r->body = buf + r->head_len;
		r->body_len = 0;
		r->total_len = r->head_len;
		return TL_HTTP_DONE;
	case FR_LENGTH:
		if (len - r->head_len < r->content_length)
			return eof ? TR_EPROTO : 0;
		r->body = buf + r->head_len;
		r->body_len = (size_t)r->content_length;
		r->total_len = r->head_len + r->body_len;
		return TL_HTTP_DONE;
	case FR_CHUNKED:
		rv = parse_chunked(r, buf, len);
		return rv == 0 && eof ? TR_EPROTO : rv;
	default: /* FR_CLOSE */
		if (!eof)
			return 0;
		r->body = buf + r->head_len;
		r->body_len = len - r->head_len;
		r->total_len = len;
		return TL_HTTP_DONE;
	}
}

/* ---- Connection ------------------------------------------------------- */

int
tl_httpc_init(tl_httpc *c, int epfd, uint64_t tag, size_t rcap, size_t wcap)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->epfd = epfd;
	c->tag = tag;
	c->state = TL_HTTPC_CLOSED;
	if ((c->rbuf = malloc(rcap)) == NULL)
		goto fail;
	if ((c->wbuf = malloc(wcap)) == NULL)
		goto fail;
	c->rcap = rcap;
	c->wcap = wcap;
	return 0;
fail:
	free(c->rbuf);
	c->rbuf = NULL;
	return TR_ENOMEM;
}

void
tl_httpc_close(tl_httpc *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->state = TL_HTTPC_CLOSED;
	c->pending = false;
	c->want_out = false;
	c->rlen = 0;
	c->wlen = c->woff = 0;
	tl_http_resp_reset(&c->resp);
}

void
tl_httpc_fini(tl_httpc *c)
{
	tl_httpc_close(c);
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
}

static enum tl_xport
classify(int err)
{
	switch (err) {
	case ECONNREFUSED: return TL_XP_REFUSED;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED: return TL_XP_RESET;
	case ETIMEDOUT: return TL_XP_TIMEOUT;
	default: return TL_XP_OTHER;
	}
}

static int
fail(tl_httpc *c, enum tl_xport kind)
{
	/* A keep-alive socket the server dropped between two requests fails
	 * the next one with no answer byte: resending is safe for our
	 * idempotent requests, and is what every HTTP client does. */
	c->fail_stale = c->answers > 0 && c->rlen == 0 &&
	    (kind == TL_XP_CLOSED || kind == TL_XP_RESET);
	c->fail = kind;
	tl_httpc_close(c);
	return kind == TL_XP_PROTOCOL ? TR_EPROTO : TR_EIO;
}

static int
set_out(tl_httpc *c, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
	    .data.u64 = (c->tag << 16) | c->gen};

	if (c->want_out == on)
		return 0;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		return fail(c, classify(errno));
	c->want_out = on;
	return 0;
}

int
tl_httpc_connect(tl_httpc *c, const struct sockaddr_in *sa)
{
	struct epoll_event ev;
	bool pending = c->pending;
	size_t wlen = c->wlen;
	int one = 1;

	tl_httpc_close(c);
	c->pending = pending;
	c->wlen = wlen;
	c->answers = 0;
	c->fail_stale = false;
	c->gen++;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(c, TL_XP_OTHER);
	/* Requests are single small writes: never wait for Nagle. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
	    errno != EINPROGRESS)
		return fail(c, classify(errno));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u64 = (c->tag << 16) | c->gen;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		return fail(c, TL_XP_OTHER);
	c->want_out = true;
	c->state = TL_HTTPC_CONNECTING;
	return 0;
}

char *
tl_httpc_wbuf(tl_httpc *c, size_t *cap)
{
	*cap = c->wcap;
	return c->wbuf;
}

static int
flush(tl_httpc *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->woff += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return set_out(c, true);
		} else {
			return fail(c, n == 0 ? TL_XP_OTHER : classify(errno));
		}
	}
	c->pending = false;
	return set_out(c, false);
}

int
tl_httpc_send(tl_httpc *c, size_t len)
{
	if (c->pending || len == 0 || len > c->wcap ||
	    (c->state != TL_HTTPC_IDLE && c->state != TL_HTTPC_CONNECTING))
		return TR_EINVALID;
	c->wlen = len;
	c->woff = 0;
	c->pending = true;
	tl_http_resp_reset(&c->resp);
	if (c->state == TL_HTTPC_CONNECTING)
		return 0;
	c->state = TL_HTTPC_BUSY;
	return flush(c);
}

/* Read what the socket has; see tl_httpc_on_event for the returns. */
static int
on_readable(tl_httpc *c)
{
	/* Bounded: level-triggered epoll reports the rest next turn. */
	for (int i = 0; i < 8; i++) {
		size_t space = c->rcap - c->rlen;
		ssize_t n;
		int rv;

		if (space == 0)
			return fail(c, TL_XP_PROTOCOL); /* answer too big */
		n = recv(c->fd, c->rbuf + c->rlen, space, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return fail(c, classify(errno));
		}
		if (c->state != TL_HTTPC_BUSY) {
			/* Idle: the server closed its end (keep-alive
			 * timeout) or talks out of turn. Either way this
			 * socket is done; the next request reconnects. */
			tl_httpc_close(c);
			return 0;
		}
		if (n == 0) {
			rv = tl_http_parse(&c->resp, c->rbuf, c->rlen, true);
			if (rv != TL_HTTP_DONE)
				return fail(c, TL_XP_CLOSED);
			c->resp.keep_alive = false;
		} else {
			c->rlen += (size_t)n;
			rv = tl_http_parse(&c->resp, c->rbuf, c->rlen, false);
			if (rv < 0)
				return fail(c, TL_XP_PROTOCOL);
		}
		if (rv == TL_HTTP_DONE && c->resp.status < 200) {
			/* An interim answer (100 Continue...): drop it and
			 * wait for the real one. */
			size_t used = c->resp.total_len;
			memmove(c->rbuf, c->rbuf + used, c->rlen - used);
			c->rlen -= used;
			tl_http_resp_reset(&c->resp);
			if (n == 0)
				return fail(c, TL_XP_CLOSED);
			if (c->rlen > 0) {
				rv = tl_http_parse(&c->resp, c->rbuf, c->rlen,
				    false);
				if (rv < 0)
					return fail(c, TL_XP_PROTOCOL);
			}
		}
		if (rv == TL_HTTP_DONE) {
			if (c->pending)
				return fail(c,
				    TL_XP_PROTOCOL); /* answered
				                      * half a request */
			c->answers++;
			return TL_HTTP_DONE;
		}
		if ((size_t)n < space)
			return 0;
	}
	return 0;
}

int
tl_httpc_on_event(tl_httpc *c, uint64_t data, uint32_t events)
{
	int rv;

	if (c->fd < 0 || (uint16_t)(data & 0xffff) != c->gen)
		return 0; /* an event of a socket closed since */
	if (c->state == TL_HTTPC_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return 0;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0)
			return fail(c, classify(err));
		if (c->pending) {
			c->state = TL_HTTPC_BUSY;
			if ((rv = flush(c)) != 0)
				return rv;
		} else {
			c->state = TL_HTTPC_IDLE;
			if ((rv = set_out(c, false)) != 0)
				return rv;
		}
	} else if ((events & EPOLLOUT) && c->pending) {
		if ((rv = flush(c)) != 0)
			return rv;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		return on_readable(c);
	return 0;
}

void
tl_httpc_consume(tl_httpc *c)
{
	size_t used = c->resp.total_len;
	bool keep = c->resp.keep_alive;

	if (c->state != TL_HTTPC_BUSY)
		return;
	tl_http_resp_reset(&c->resp);
	if (!keep || c->rlen != used) {
		tl_httpc_close(c);
		return;
	}
	c->rlen = 0;
	c->state = TL_HTTPC_IDLE;
}

/* ---- JSON fields ------------------------------------------------------ */

static const char *
skip_ws(const char *p, const char *end)
{
	while (
	    p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns just past the closing one, or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"')
			return p + 1;
		if ((unsigned char)*p < 0x20)
			return NULL;
	}
	return NULL;
}

/* p at a value; returns just past it, or NULL. Nesting is bounded by the
 * body's length, and counted without recursion. */
static const char *
skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	if (p >= end)
		return NULL;
	do {
		if (p >= end)
			return NULL;
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return NULL;
			depth--;
			p++;
		} else if (depth > 0) {
			p++; /* commas, colons, scalars inside a container */
		} else {
			const char *s = p;
			while (p < end && *p != ',' && *p != '}' &&
			    *p != ']' && *p != ' ' && *p != '\t' &&
			    *p != '\r' && *p != '\n')
				p++;
			if (p == s)
				return NULL;
		}
	} while (depth > 0);
	return p;
}

/* Find member key of the top-level object; *val at its value. */
static int
find_member(const char *body, size_t len, const char *key, const char **val)
{
	const char *p, *end = body + len;
	size_t kl = strlen(key);

	p = skip_ws(body, end);
	if (p == end || *p != '{')
		return TR_EPROTO;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return TR_ENOT_FOUND;
	for (;;) {
		const char *k, *q;

		if (p == end || *p != '"')
			return TR_EPROTO;
		k = p + 1;
		if ((q = skip_string(p, end)) == NULL)
			return TR_EPROTO;
		p = skip_ws(q, end);
		if (p == end || *p != ':')
			return TR_EPROTO;
		p = skip_ws(p + 1, end);
		if ((size_t)(q - 1 - k) == kl && memcmp(k, key, kl) == 0) {
			*val = p;
			return p < end ? 0 : TR_EPROTO;
		}
		if ((p = skip_value(p, end)) == NULL)
			return TR_EPROTO;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		return p < end && *p == '}' ? TR_ENOT_FOUND : TR_EPROTO;
	}
}

static int
hexval(int ch)
{
	ch = lower(ch);
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Decode the string at p (opening quote) into out, or only count when out
 * is NULL. Returns the decoded length or -1 on a bad string. */
static long
decode_string(const char *p, const char *end, char *out)
{
	long n = 0;

	for (p++; p < end; p++) {
		char ch = *p;
		if (ch == '"')
			return n;
		if ((unsigned char)ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (++p == end)
				return -1;
			switch (*p) {
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case '/': ch = '/'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u':
				if (end - p < 5)
					return -1;
				for (int i = 1; i <= 4; i++)
					if (hexval((unsigned char)p[i]) < 0)
						return -1;
				p += 4;
				ch = '?';
				break;
			default: return -1;
			}
		}
		if (out)
			out[n] = ch;
		n++;
	}
	return -1;
}

int
tl_json_scan_str(const char *body, size_t len, const char *key, char *out,
    size_t cap)
{
	const char *v, *end = body + len;
	long n;
	int rv;

	if ((rv = find_member(body, len, key, &v)) != 0)
		return rv;
	if (*v != '"')
		return TR_ENOT_FOUND;
	if ((n = decode_string(v, end, NULL)) < 0)
		return TR_EPROTO;
	if (cap == 0 || (size_t)n > cap - 1)
		return TR_EINVALID;
	(void)decode_string(v, end, out);
	out[n] = '\0';
	return 0;
}

int
tl_json_scan_i64(const char *body, size_t len, const char *key, int64_t *out)
{
	const char *v, *end = body + len;
	bool neg = false;
	uint64_t n = 0, lim;
	int rv;

	if ((rv = find_member(body, len, key, &v)) != 0)
		return rv;
	if (*v == '-') {
		neg = true;
		v++;
	}
	if (v == end || *v < '0' || *v > '9')
		return TR_ENOT_FOUND;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; v < end && *v >= '0' && *v <= '9'; v++) {
		uint64_t d = (uint64_t)(*v - '0');
		if (n > (lim - d) / 10)
			return TR_EINVALID;
		n = n * 10 + d;
	}
	if (v < end && (*v == '.' || *v == 'e' || *v == 'E'))
		return TR_EINVALID;
	*out = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}
