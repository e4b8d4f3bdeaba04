/* tr_map: linear probing with backward-shift deletion (no tombstones, so
 * lookups stay short however many keys come and go). */
#include "tr_map.h"

#include <stdlib.h>
#include <string.h>

#include "tr_err.h"
#include "tr_ids.h"

struct slot {
	const char *key; /* NULL: empty */
	uint64_t hash;
	void *value;
};

struct tr_map {
	struct slot *slots;
	size_t cap; /* power of two */
	size_t count;
	uint64_t seed;
};

static uint64_t
hash_str(uint64_t seed, const char *s)
{
	/* Seeded FNV-1a, then murmur3's finaliser to spread the bits. */
	uint64_t h = 1469598103934665603ULL ^ seed;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

tr_map *
tr_map_new(void)
{
	tr_map *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->cap = 16;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		free(m);
		return NULL;
	}
	m->seed = tr_random_u64();
	return m;
}

void
tr_map_free(tr_map *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

static size_t
find_slot(const tr_map *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;
	size_t i = h & mask;

	while (m->slots[i].key != NULL) {
		if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i; /* empty slot where key would go */
}

void *
tr_map_get(const tr_map *m, const char *key)
{
	size_t i = find_slot(m, key, hash_str(m->seed, key));
	return m->slots[i].key ? m->slots[i].value : NULL;
}

static int
grow(tr_map *m)
{
	size_t new_cap = m->cap * 2;
	struct slot *old = m->slots;
	size_t old_cap = m->cap;
	struct slot *slots = calloc(new_cap, sizeof(*slots));

	if (slots == NULL || new_cap < old_cap) {
		free(slots);
		return TR_ENOMEM;
	}
	m->slots = slots;
	m->cap = new_cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].key == NULL)
			continue;
		size_t j = old[i].hash & (new_cap - 1);
		while (slots[j].key != NULL)
			j = (j + 1) & (new_cap - 1);
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

int
tr_map_put(tr_map *m, const char *key, void *value)
{
	uint64_t h = hash_str(m->seed, key);
	size_t i = find_slot(m, key, h);

	if (m->slots[i].key != NULL)
		return TR_EDUPLICATE;
	/* Keep the load at most 3/4 so probe runs stay short. */
	if ((m->count + 1) * 4 > m->cap * 3) {
		if (grow(m) != 0)
			return TR_ENOMEM;
		i = find_slot(m, key, h);
	}
	m->slots[i].key = key;
	m->slots[i].hash = h;
	m->slots[i].value = value;
	m->count++;
	return 0;
}

void *
tr_map_del(tr_map *m, const char *key)
{
	size_t mask = m->cap - 1;
	size_t i = find_slot(m, key, hash_str(m->seed, key));
	void *value;

	if (m->slots[i].key == NULL)
		return NULL;
	value = m->slots[i].value;
	/* Shift back every later entry of the run that may move up, so no
	 * lookup ever stops early at the hole. */
	for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
		if (m->slots[j].key == NULL)
			break;
		size_t home = m->slots[j].hash & mask;
		/* Entry j may fill hole i if its home is not in (i, j]. */
		int can_move = (i <= j) ? (home <= i || home > j)
		                        : (home <= i && home > j);
		if (can_move) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = NULL;
	m->slots[i].value = NULL;
	m->count--;
	return value;
}

size_t
tr_map_count(const tr_map *m)
{
	return m->count;
}

void
tr_map_each(const tr_map *m, void (*fn)(const char *, void *, void *),
    void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key != NULL)
			fn(m->slots[i].key, m->slots[i].value, arg);
}
