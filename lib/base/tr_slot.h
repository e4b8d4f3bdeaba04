/* tr_slot: Redis Cluster routing: key slots, redirections, the slot map. */
#ifndef TR_SLOT_H
#define TR_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Pure: no sockets, no hiredis. The coordinator client reads CLUSTER SLOTS
 * and error replies with hiredis and hands this module plain numbers and
 * strings. Every function that can fail changes nothing unless it returns 0.
 */

#define TR_SLOT_COUNT 16384    /* slots of a Redis Cluster */
#define TR_SLOT_MASTERS_MAX 64 /* masters one map can name */
#define TR_SLOT_HOST_MAX 255   /* bytes of a host, without the NUL */
#define TR_SLOT_NO_MASTER 0xff /* owner of a slot that no master serves */

/* The slot of a key (len bytes, may hold NUL), as Redis Cluster computes
 * it: CRC16 (XMODEM) mod 16384 of the hash tag, which is what stands
 * between the first '{' and the first '}' after it, or of the whole key
 * when there is no such '}' or nothing between the two. So
 * "tr:{E42}:meta" and "tr:{E42}:holds" share a slot. */
uint16_t tr_slot_of_key(const char *key, size_t len);

enum tr_slot_redirect_kind {
	TR_SLOT_MOVED, /* the slot has a new master: update the map */
	TR_SLOT_ASK,   /* ask there once (ASKING first); the map stays */
};

typedef struct tr_slot_redirect {
	enum tr_slot_redirect_kind kind;
	uint16_t slot;
	/* "" when Redis sent no host: the host of the connection that
	 * answered. An IPv6 address comes without brackets. */
	char host[TR_SLOT_HOST_MAX + 1];
	int port; /* 1-65535 */
} tr_slot_redirect;

/* Parse the text of an error reply (len bytes, as hiredis gives it, no
 * CRLF): "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>", the
 * port after the last ':'. Returns 0, or TR_EPROTO (out untouched) for
 * anything else: another error, a slot past 16383, a port outside
 * 1-65535, a host too long or with spaces or control bytes, or anything
 * after the port. */
int tr_slot_redirect_parse(const char *text, size_t len,
    tr_slot_redirect *out);

typedef struct tr_slot_master {
	char host[TR_SLOT_HOST_MAX + 1];
	int port;
} tr_slot_master;

/* Which master serves each slot. A plain value (about 33 KB): embed it or
 * allocate it; tr_slot_map_reset before first use. A master keeps its
 * index until the next reset, even when it serves no slot any more, so a
 * caller may keep one connection per index. */
typedef struct tr_slot_map {
	tr_slot_master masters[TR_SLOT_MASTERS_MAX];
	int nmasters;
	uint8_t owner[TR_SLOT_COUNT]; /* index in masters, or NO_MASTER */
} tr_slot_map;

/* No masters; no slot served. */
void tr_slot_map_reset(tr_slot_map *m);

/* Slots start..end (inclusive, 0 <= start <= end <= 16383) are served by
 * host:port (host not empty: the caller puts the answering connection's
 * host in place of an empty one), which is added as a master if new; one
 * range of a CLUSTER SLOTS reply, in any order. Returns 0; TR_EINVALID for
 * a range out of bounds or with start > end, an empty or too long host, or
 * a port outside 1-65535; TR_ECONFLICT if a slot of the range is already
 * served (a reply that names two masters for one slot); TR_ELIMIT if the
 * master would be one more than TR_SLOT_MASTERS_MAX. */
int tr_slot_map_add_range(tr_slot_map *m, int start, int end, const char *host,
    int port);

/* The index of the master that serves slot, or TR_ENOT_FOUND when none
 * does (a hole in the map: refresh it) or slot is not a slot. */
int tr_slot_map_lookup(const tr_slot_map *m, int slot);

/* Master number index, or NULL if there is no such master. */
const tr_slot_master *tr_slot_map_master(const tr_slot_map *m, int index);

/* A MOVED redirection: slot is now served by host:port (host not empty, as
 * for add_range), added as a master if new. Returns 0, TR_EINVALID for a
 * bad slot, host or port, or TR_ELIMIT when the master is new and the map
 * is full (refresh the whole map from CLUSTER SLOTS). */
int tr_slot_map_apply_moved(tr_slot_map *m, int slot, const char *host,
    int port);

/* Whether every one of the 16384 slots has a master. */
bool tr_slot_map_covered(const tr_slot_map *m);

#endif
