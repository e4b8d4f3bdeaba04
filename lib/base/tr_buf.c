/* tr_buf: bounded appends; the first one that does not fit ends it. */
#include "tr_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
tr_buf_init(tr_buf *b, char *mem, size_t cap)
{
	b->buf = mem;
	b->cap = cap;
	b->len = 0;
	b->overflow = cap == 0;
	if (cap > 0)
		mem[0] = '\0';
}

void
tr_buf_printf(tr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

void
tr_buf_put(tr_buf *b, const char *s, size_t n)
{
	if (b->overflow || b->len + n >= b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
tr_buf_int(tr_buf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	tr_buf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
tr_buf_json_str(tr_buf *b, const char *s)
{
	size_t start = 0, i;

	tr_buf_lit(b, "\"");
	/* Copy clean runs in one go; escape what JSON needs escaped. */
	for (i = 0; s != NULL && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		tr_buf_put(b, s + start, i - start);
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			tr_buf_put(b, esc, 2);
		} else {
			tr_buf_printf(b, "\\u%04x", c);
		}
		start = i + 1;
	}
	if (s != NULL)
		tr_buf_put(b, s + start, i - start);
	tr_buf_lit(b, "\"");
}

size_t
tr_buf_len(const tr_buf *b)
{
	return b->overflow ? 0 : b->len;
}
