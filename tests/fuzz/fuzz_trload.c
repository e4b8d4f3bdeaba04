/* fuzz_trload: the load tool's readers of what the gateway answers: HTTP
 * answers (tools/trload/httpc.h tl_http_parse), the JSON fields it takes from
 * them (tl_json_scan_str, tl_json_scan_i64) and the error codes it counts
 * (tools/trload/report.h tr_api_error_parse). fuzz_report reads its files.
 *
 * Input: byte 0 picks the reader (mod 3), the rest is its input:
 *   0  HTTP: byte 1 is the size of the pieces the answer arrives in (0:
 *      at once); then the bytes from the server, maybe several answers.
 *   1  JSON fields: byte 1 is the room for the string; then the key, a
 *      newline, the body.
 *   2  an error code's name.
 *
 * Checked: every parser reads only the bytes it is given; an HTTP answer
 * parses the same whether it arrives at once or in pieces, and lies within
 * the bytes it was read from; strings filled fit their buffers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "report.h" /* tr_api_error_parse */
#include "tr_err.h"

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n",          \
			    __FILE__, __LINE__, #cond);                       \
			abort();                                              \
		}                                                             \
	} while (0)

/* Answers read from one input (keep-alive, or after interim 1xx). */
#define ANSWERS_MAX 8
#define KEY_MAX 64

/* Parse buf[0..len) as the connection does: more bytes each time (piece
 * bytes at a time; 0: all at once), then the close. */
static int
parse_pieces(tl_http_resp *r, char *buf, size_t len, size_t piece)
{
	size_t have = piece ? 0 : len;
	int rv;

	tl_http_resp_reset(r);
	for (;;) {
		if (piece)
			have = have + piece < len ? have + piece : len;
		rv = tl_http_parse(r, buf, have, false);
		if (rv != 0 || have == len)
			break;
	}
	return rv == 0 ? tl_http_parse(r, buf, len, true) : rv;
}

static void
fuzz_http(const uint8_t *data, size_t size)
{
	size_t piece = data[0], off = 0;
	size_t len = size - 1;
	char *a = malloc(len ? len : 1), *b = malloc(len ? len : 1);

	CHECK(a != NULL && b != NULL);
	memcpy(a, data + 1, len);
	memcpy(b, data + 1, len);
	/* Each answer in turn: the bytes after one are the next one's. */
	for (int i = 0; i < ANSWERS_MAX && off < len; i++) {
		tl_http_resp ra, rb;
		int rva = parse_pieces(&ra, a + off, len - off, piece);
		int rvb = parse_pieces(&rb, b + off, len - off, 0);

		CHECK(rva == rvb);
		CHECK(rva == TL_HTTP_DONE || rva == TR_EPROTO);
		if (rva != TL_HTTP_DONE)
			break;
		CHECK(ra.status >= 100 && ra.status <= 599);
		CHECK(ra.status == rb.status);
		CHECK(ra.keep_alive == rb.keep_alive);
		CHECK(ra.total_len == rb.total_len);
		CHECK(ra.total_len > 0 && ra.total_len <= len - off);
		CHECK(ra.head_len <= ra.total_len);
		CHECK(ra.body >= a + off + ra.head_len);
		CHECK(ra.body + ra.body_len <= a + off + ra.total_len);
		CHECK(ra.body_len == rb.body_len);
		CHECK(memcmp(ra.body, rb.body, ra.body_len) == 0);
		off += ra.total_len;
	}
	free(a);
	free(b);
}

static void
fuzz_fields(const uint8_t *data, size_t size)
{
	size_t cap = data[0], klen, blen;
	const uint8_t *nl = memchr(data + 1, '\n', size - 1);
	char key[KEY_MAX + 1], *out, *body;
	int64_t v;
	int rv;

	if (nl == NULL)
		return;
	klen = (size_t)(nl - (data + 1));
	if (klen > KEY_MAX)
		klen = KEY_MAX;
	memcpy(key, data + 1, klen);
	key[klen] = '\0';
	blen = size - (size_t)(nl + 1 - data);
	CHECK((body = malloc(blen ? blen : 1)) != NULL);
	memcpy(body, nl + 1, blen);
	CHECK((out = malloc(cap ? cap : 1)) != NULL);
	rv = tl_json_scan_str(body, blen, key, out, cap);
	CHECK(rv == 0 || rv == TR_ENOT_FOUND || rv == TR_EINVALID ||
	    rv == TR_EPROTO);
	if (rv == 0)
		CHECK(memchr(out, '\0', cap) != NULL);
	rv = tl_json_scan_i64(body, blen, key, &v);
	CHECK(rv == 0 || rv == TR_ENOT_FOUND || rv == TR_EINVALID ||
	    rv == TR_EPROTO);
	free(out);
	free(body);
}

static void
fuzz_ecode(const uint8_t *data, size_t size)
{
	int ec = tr_api_error_parse((const char *)data, size);
	const char *name = tr_api_error_name(ec);

	CHECK(ec >= 0 && ec < TR_API_ERROR_COUNT);
	if (ec != TR_API_OTHER)
		CHECK(strlen(name) == size && memcmp(name, data, size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 2)
		return 0;
	/* Exactly the input's bytes, so reading past them shows. */
	CHECK((copy = malloc(size - 1)) != NULL);
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0: fuzz_http(copy, size - 1); break;
	case 1: fuzz_fields(copy, size - 1); break;
	default: fuzz_ecode(copy, size - 1); break;
	}
	free(copy);
	return 0;
}
