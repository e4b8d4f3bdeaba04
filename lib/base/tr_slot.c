/* tr_slot: key slots, MOVED/ASK parsing and the slot map of a cluster. */
#include "tr_slot.h"

#include <string.h>

#include "tr_err.h"

_Static_assert(TR_SLOT_MASTERS_MAX < TR_SLOT_NO_MASTER,
    "a master index must fit the owner table and differ from NO_MASTER");

/* CRC16 XMODEM: polynomial 0x1021, initial value 0, no reflection, no
 * final xor. Bit by bit: keys are a few dozen bytes, and a table would be
 * 512 bytes to get right for nothing measurable. */
static uint16_t
crc16_xmodem(const unsigned char *p, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int bit = 0; bit < 8; bit++) {
			if (crc & 0x8000)
				crc = (uint16_t)((crc << 1) ^ 0x1021);
			else
				crc = (uint16_t)(crc << 1);
		}
	}
	return crc;
}

uint16_t
tr_slot_of_key(const char *key, size_t len)
{
	const char *open, *close;

	if (len == 0)
		return 0; /* CRC16 of nothing */
	open = memchr(key, '{', len);
	if (open != NULL) {
		size_t from = (size_t)(open - key) + 1;
		close = memchr(key + from, '}', len - from);
		/* "{}" tags nothing: the whole key is hashed. */
		if (close != NULL && close > key + from) {
			key += from;
			len = (size_t)(close - key);
		}
	}
	return crc16_xmodem((const unsigned char *)key, len) &
	    (TR_SLOT_COUNT - 1);
}

/* Digits s[0..n) as a number in [min, max]; no sign, at most 5 digits
 * (both bounds here are below 100000). 0 or -1. */
static int
parse_small(const char *s, size_t n, long min, long max, long *out)
{
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A host we can store: fits, and has no space, control byte or NUL (which
 * a reply's text may carry; a C string could not). Empty is the caller's
 * to allow. */
static bool
host_ok(const char *s, size_t n)
{
	if (n > TR_SLOT_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

int
tr_slot_redirect_parse(const char *text, size_t len, tr_slot_redirect *out)
{
	enum tr_slot_redirect_kind kind;
	const char *p, *end, *sp, *colon;
	long slot, port;

	if (text == NULL)
		return TR_EPROTO;
	end = text + len;
	if (len > 6 && memcmp(text, "MOVED ", 6) == 0) {
		kind = TR_SLOT_MOVED;
		p = text + 6;
	} else if (len > 4 && memcmp(text, "ASK ", 4) == 0) {
		kind = TR_SLOT_ASK;
		p = text + 4;
	} else {
		return TR_EPROTO;
	}
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL ||
	    parse_small(p, (size_t)(sp - p), 0, TR_SLOT_COUNT - 1, &slot) != 0)
		return TR_EPROTO;
	p = sp + 1;
	/* The last ':' splits, so an IPv6 address keeps its own colons. */
	colon = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == ':')
			colon = q;
	if (colon == NULL || !host_ok(p, (size_t)(colon - p)) ||
	    parse_small(colon + 1, (size_t)(end - colon - 1), 1, 65535,
	        &port) != 0)
		return TR_EPROTO;
	out->kind = kind;
	out->slot = (uint16_t)slot;
	memcpy(out->host, p, (size_t)(colon - p));
	out->host[colon - p] = '\0';
	out->port = (int)port;
	return 0;
}

void
tr_slot_map_reset(tr_slot_map *m)
{
	m->nmasters = 0;
	memset(m->owner, TR_SLOT_NO_MASTER, sizeof(m->owner));
}

static bool
address_ok(const char *host, int port)
{
	return host != NULL && host[0] != '\0' &&
	    host_ok(host, strnlen(host, TR_SLOT_HOST_MAX + 1)) && port >= 1 &&
	    port <= 65535;
}

/* The index of host:port, or of where it would go (nmasters) if new. */
static int
master_find(const tr_slot_map *m, const char *host, int port)
{
	int i;

	for (i = 0; i < m->nmasters; i++)
		if (m->masters[i].port == port &&
		    strcmp(m->masters[i].host, host) == 0)
			break;
	return i;
}

/* Index of host:port, added if new, or TR_ELIMIT with the map full. */
static int
master_index(tr_slot_map *m, const char *host, int port)
{
	int i = master_find(m, host, port);

	if (i < m->nmasters)
		return i;
	if (m->nmasters == TR_SLOT_MASTERS_MAX)
		return TR_ELIMIT;
	/* address_ok bounded host's length. */
	memcpy(m->masters[i].host, host, strlen(host) + 1);
	m->masters[i].port = port;
	m->nmasters++;
	return i;
}

int
tr_slot_map_add_range(tr_slot_map *m, int start, int end, const char *host,
    int port)
{
	int idx;

	if (start < 0 || end >= TR_SLOT_COUNT || start > end ||
	    !address_ok(host, port))
		return TR_EINVALID;
	for (int s = start; s <= end; s++)
		if (m->owner[s] != TR_SLOT_NO_MASTER)
			return TR_ECONFLICT;
	if ((idx = master_index(m, host, port)) < 0)
		return idx;
	memset(&m->owner[start], idx, (size_t)(end - start + 1));
	return 0;
}

int
tr_slot_map_lookup(const tr_slot_map *m, int slot)
{
	if (slot < 0 || slot >= TR_SLOT_COUNT ||
	    m->owner[slot] == TR_SLOT_NO_MASTER)
		return TR_ENOT_FOUND;
	return m->owner[slot];
}

const tr_slot_master *
tr_slot_map_master(const tr_slot_map *m, int index)
{
	if (index < 0 || index >= m->nmasters)
		return NULL;
	return &m->masters[index];
}

int
tr_slot_map_apply_moved(tr_slot_map *m, int slot, const char *host, int port)
{
	int idx;

	if (slot < 0 || slot >= TR_SLOT_COUNT || !address_ok(host, port))
		return TR_EINVALID;
	if ((idx = master_index(m, host, port)) < 0)
		return idx;
	m->owner[slot] = (uint8_t)idx;
	return 0;
}

bool
tr_slot_map_covered(const tr_slot_map *m)
{
	for (int s = 0; s < TR_SLOT_COUNT; s++)
		if (m->owner[s] == TR_SLOT_NO_MASTER)
			return false;
	return true;
}
