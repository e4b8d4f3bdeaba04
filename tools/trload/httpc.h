/* httpc: a small HTTP/1.1 keep-alive client over non-blocking sockets, for
 * load generation: one connection = one state machine driven by epoll. */
#ifndef TL_HTTPC_H
#define TL_HTTPC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a request failed below HTTP (no status to count). */
enum tl_xport {
	TL_XP_REFUSED,  /* connect refused: nobody listens */
	TL_XP_RESET,    /* the peer reset the connection */
	TL_XP_CLOSED,   /* the peer closed before a whole answer came */
	TL_XP_TIMEOUT,  /* no whole answer within the caller's timeout */
	TL_XP_PROTOCOL, /* bytes that are not an HTTP/1.x answer, or too big */
	TL_XP_OTHER,    /* any other socket error */
	TL_XP_COUNT
};

/* A stable name for a transport failure ("refused", "reset", ...). */
const char *tl_xport_name(int kind);

/* ---- The response parser (pure) ---------------------------------------
 *
 * tl_http_parse is called with the whole buffer received so far, each time
 * more bytes arrive; it keeps where it got to in r, so bytes are examined
 * about once however the answer is split. It reads Content-Length bodies,
 * chunked bodies (decoded in place: the chunk framing is squeezed out of buf)
 * and bodies that run to connection close (then pass eof = true once the
 * peer has closed).
 */
typedef struct tl_http_resp {
	/* The answer, valid once tl_http_parse returned TL_HTTP_DONE. */
	int status;       /* 100..599 */
	bool keep_alive;  /* false: the server closes after this answer */
	const char *body; /* inside buf, not NUL terminated */
	size_t body_len;
	size_t total_len; /* bytes of buf this answer used (head + body) */

	/* Parser state: zero it with tl_http_resp_reset, then leave alone. */
	size_t scanned;  /* the end-of-head search resumes here */
	size_t head_len; /* 0 until the head is parsed */
	int framing;
	uint64_t content_length;
	size_t chunk_at;   /* offset of the next chunk-size line */
	size_t chunk_data; /* decoded body bytes seen so far */
} tl_http_resp;

#define TL_HTTP_DONE 1

/* Forget any answer in progress; the next parse starts a new one. */
void tl_http_resp_reset(tl_http_resp *r);

/* Parse buf[0..len), the bytes received since the answer began.
 * Returns TL_HTTP_DONE when a whole answer is there (fields filled; bytes
 * past total_len belong to the next answer), 0 when more bytes are needed,
 * or TR_EPROTO on bytes that cannot be an HTTP/1.x answer (and, with eof,
 * on an answer cut short). Never reads past len. */
int tl_http_parse(tl_http_resp *r, char *buf, size_t len, bool eof);

/* ---- One keep-alive connection ---------------------------------------- */

enum tl_httpc_state {
	TL_HTTPC_CLOSED,     /* no socket: connect before sending */
	TL_HTTPC_CONNECTING, /* connect in progress (a request may wait) */
	TL_HTTPC_IDLE,       /* connected, nothing in flight */
	TL_HTTPC_BUSY,       /* a request is being written or answered */
};

typedef struct tl_httpc {
	int fd;
	int epfd;
	enum tl_httpc_state state;
	uint64_t tag;       /* the caller's name for c, at most 48 bits */
	uint16_t gen;       /* bumped per socket: see TL_HTTPC_TAG */
	bool pending;       /* a request waits in wbuf */
	bool want_out;      /* EPOLLOUT is registered */
	uint64_t answers;   /* answers received on the current socket */
	enum tl_xport fail; /* set when a call returned an error */
	bool fail_stale;    /* the failure hit a reused connection before any
	                     * byte of the answer: resending is the usual fix */
	char *wbuf;
	size_t wcap, wlen, woff;
	char *rbuf;
	size_t rcap, rlen;
	tl_http_resp resp;
} tl_httpc;

/* Prepare c with buffers of rcap and wcap bytes; answers bigger than rcap
 * fail as TL_XP_PROTOCOL. Each socket of c is registered in epfd, with a
 * data.u64 from which TL_HTTPC_TAG gives back tag (< 2^48). Returns 0, or
 * TR_ENOMEM with nothing allocated. */
int tl_httpc_init(tl_httpc *c, int epfd, uint64_t tag, size_t rcap,
    size_t wcap);

/* Close the socket (if any) and free the buffers. */
void tl_httpc_fini(tl_httpc *c);

/* Start a non-blocking connect to sa, closing any socket c had (a request
 * that was pending stays pending and is written once connected). Returns 0,
 * or TR_EIO with c->fail set and c closed. */
int tl_httpc_connect(tl_httpc *c, const struct sockaddr_in *sa);

/* The request buffer: write the request into it (at most *cap bytes), then
 * call tl_httpc_send with its length. */
char *tl_httpc_wbuf(tl_httpc *c, size_t *cap);

/* Send the len bytes written into the request buffer. c must be IDLE or
 * CONNECTING with nothing pending, else TR_EINVALID and nothing changes.
 * Writes at once when connected; the rest goes out as the socket allows.
 * Returns 0, or TR_EIO with c->fail set and c closed (the request is
 * dropped). */
int tl_httpc_send(tl_httpc *c, size_t len);

/* The tag of the connection an epoll event is for (data.u64 as registered:
 * the tag plus a generation number that tells events of an old socket from
 * those of the current one). */
#define TL_HTTPC_TAG(data_u64) ((data_u64) >> 16)

/* Drive c after epoll reported events with data for it (events of a socket
 * c has since closed are ignored). Returns TL_HTTP_DONE when an answer is
 * complete (c->resp; its body stays valid until tl_httpc_consume; interim
 * 1xx answers are skipped), 0 when more I/O is needed (an idle connection
 * that the server closed, or that got bytes nobody asked for, just becomes
 * CLOSED), or TR_EIO / TR_EPROTO with c->fail set and c closed: the request
 * in flight, if any, is lost. */
int tl_httpc_on_event(tl_httpc *c, uint64_t data, uint32_t events);

/* Done with the answer: drop its bytes. c becomes IDLE, or CLOSED when the
 * server said it closes. Bytes after the answer that nobody asked for
 * (this client never pipelines) make it close too. */
void tl_httpc_consume(tl_httpc *c);

/* Close the socket now (on a timeout, or at the end). c becomes CLOSED and
 * forgets any request in flight. */
void tl_httpc_close(tl_httpc *c);

/* ---- Fields of a flat JSON answer (no allocation) ----------------------
 *
 * These look only at members of the top-level object, skipping nested
 * values and the insides of strings, so a key quoted inside a message
 * string is never mistaken for a member.
 */

/* Copy the string value of member key into out (NUL terminated; simple
 * escapes decoded, \uXXXX becomes '?'). Returns 0, TR_ENOT_FOUND (no such
 * member, or it is not a string), TR_EINVALID (value longer than cap - 1:
 * out untouched) or TR_EPROTO (body is not a JSON object). */
int tl_json_scan_str(const char *body, size_t len, const char *key, char *out,
    size_t cap);

/* Read the integer value of member key. Same returns; a number with a
 * fraction or exponent, or out of int64 range, is TR_EINVALID. */
int tl_json_scan_i64(const char *body, size_t len, const char *key,
    int64_t *out);

#endif
