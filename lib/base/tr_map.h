/* tr_map: a hash map from C strings to pointers (open addressing). */
#ifndef TR_MAP_H
#define TR_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_map tr_map;

/* A new empty map, or NULL if out of memory. The hash is seeded from the
 * kernel's randomness so that keys chosen by clients cannot be aimed at one
 * bucket run. */
tr_map *tr_map_new(void);

/* Free the map itself; keys and values are the caller's. */
void tr_map_free(tr_map *m);

/* The value stored under key, or NULL. */
void *tr_map_get(const tr_map *m, const char *key);

/* Store value under key. The map keeps the key pointer, not a copy: the
 * key string must stay unchanged while it is in the map (keep it inside the
 * value). Returns 0, TR_EDUPLICATE if the key is present (map unchanged),
 * or TR_ENOMEM (map unchanged). */
int tr_map_put(tr_map *m, const char *key, void *value);

/* Remove key; returns its value, or NULL if absent. */
void *tr_map_del(tr_map *m, const char *key);

/* Number of keys. */
size_t tr_map_count(const tr_map *m);

/* Call fn for every entry, in no particular order. fn must not change the
 * map. */
void tr_map_each(const tr_map *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
