/* tr_buf: a bounded string builder for answers written into a fixed
 * buffer (JSON bodies, metrics text). Once something does not fit, the
 * builder stops and tr_buf_len says 0: never a cut answer. */
#ifndef TR_BUF_H
#define TR_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tr_buf {
	char *buf;
	size_t cap, len;
	bool overflow;
} tr_buf;

/* Write into mem (cap bytes, NUL-terminated as it goes). */
void tr_buf_init(tr_buf *b, char *mem, size_t cap);
void tr_buf_printf(tr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* n bytes as they are. */
void tr_buf_put(tr_buf *b, const char *s, size_t n);
#define tr_buf_lit(b, s) tr_buf_put(b, s, sizeof(s) - 1)
/* A decimal integer, without printf. */
void tr_buf_int(tr_buf *b, int64_t v);
/* A JSON string literal, quotes included; escapes only when needed. */
void tr_buf_json_str(tr_buf *b, const char *s);
/* The length written, or 0 if anything did not fit. */
size_t tr_buf_len(const tr_buf *b);

#endif
