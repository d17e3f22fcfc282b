/*
 * ofr_map.c - the small containers the engine is built on: a growable
 * array (ofri_grow), a u64 -> u32 open-addressing hash map (linear probing,
 * power-of-two capacity, load kept under 1/2) and a string interning table
 * on top of it.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"
#include "common/pm_hash.h"

#include <stdlib.h>
#include <string.h>

uint64_t ofri_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

int ofri_grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return PM_OK;
	size_t c = *cap ? *cap : 64;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			return PM_ENOMEM;
		c *= 2;
	}
	void *nv = realloc(*v, c * elem);
	if (!nv)
		return PM_ENOMEM;
	*v = nv;
	*cap = c;
	return PM_OK;
}

int ofri_map_init(struct ofri_map *m, size_t expect)
{
	size_t cap = 16;
	while (cap < expect * 2 + 2)
		cap <<= 1;
	memset(m, 0, sizeof(*m));
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = calloc(cap, sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		ofri_map_release(m);
		return PM_ENOMEM;
	}
	m->cap = cap;
	return PM_OK;
}

void ofri_map_release(struct ofri_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static int grow(struct ofri_map *m)
{
	struct ofri_map bigger;
	int rc = ofri_map_init(&bigger, m->cap);
	if (rc)
		return rc;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			ofri_map_put(&bigger, m->keys[i], m->vals[i]);
	ofri_map_release(m);
	*m = bigger;
	return PM_OK;
}

int ofri_map_put(struct ofri_map *m, uint64_t key, uint32_t val)
{
	if (!key)
		return PM_EINVAL;
	if ((m->n + 1) * 2 > m->cap) {
		int rc = grow(m);
		if (rc)
			return rc;
	}
	size_t mask = m->cap - 1, i = (size_t)ofri_mix64(key) & mask;
	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & mask;
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->n++;
	}
	m->vals[i] = val;
	return PM_OK;
}

bool ofri_map_get(const struct ofri_map *m, uint64_t key, uint32_t *val)
{
	if (!key || !m->cap)
		return false;
	size_t mask = m->cap - 1, i = (size_t)ofri_mix64(key) & mask;
	while (m->keys[i]) {
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return true;
		}
		i = (i + 1) & mask;
	}
	return false;
}

/* FNV-1a 64, never 0 (0 marks an empty map slot). */
uint64_t ofri_hash_str(const char *s)
{
	uint64_t h = pm_fnv1a64(s, strlen(s));
	return h ? h : 1;
}

uint64_t ofri_gtin_key(const char *gtin)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < OFR_GTIN_LEN; i++) {
		if (gtin[i] < '0' || gtin[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(gtin[i] - '0');
	}
	return gtin[i] ? 0 : v + 1;
}

int ofri_strtab_init(struct ofri_strtab *t)
{
	memset(t, 0, sizeof(*t));
	int rc = ofri_map_init(&t->map, 64);
	uint32_t id;
	return rc ? rc : ofri_strtab_add(t, "", &id);
}

void ofri_strtab_release(struct ofri_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	ofri_map_release(&t->map);
	memset(t, 0, sizeof(*t));
}

uint32_t ofri_strtab_find(const struct ofri_strtab *t, const char *s)
{
	uint64_t h = ofri_hash_str(s);
	uint32_t id;
	/* A 64-bit FNV collision is treated as absent (the strings are checked). */
	if (ofri_map_get(&t->map, h, &id) && !strcmp(t->s[id], s))
		return id;
	return UINT32_MAX;
}

int ofri_strtab_add(struct ofri_strtab *t, const char *s, uint32_t *id)
{
	uint32_t found = ofri_strtab_find(t, s);
	if (found != UINT32_MAX) {
		*id = found;
		return PM_OK;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **v = realloc(t->s, cap * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		t->s = v;
		t->cap = cap;
	}
	char *copy = strdup(s);
	if (!copy)
		return PM_ENOMEM;
	int rc = ofri_map_put(&t->map, ofri_hash_str(s), (uint32_t)t->n);
	if (rc) {
		free(copy);
		return rc;
	}
	t->s[t->n] = copy;
	*id = (uint32_t)t->n++;
	return PM_OK;
}

#define ARENA_CHUNK 65536

const char *ofri_arena_strdup(struct ofri_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	if (!a->chunk || a->used + n > a->cap) {
		size_t cap = n + sizeof(char *) > ARENA_CHUNK ? n + sizeof(char *) : ARENA_CHUNK;
		char *c = malloc(cap);
		if (!c)
			return NULL;
		memcpy(c, &a->chunk, sizeof(char *));   /* link the previous chunk */
		a->chunk = c;
		a->used = sizeof(char *);
		a->cap = cap;
	}
	char *d = a->chunk + a->used;
	memcpy(d, s, n);
	a->used += n;
	return d;
}

void ofri_arena_release(struct ofri_arena *a)
{
	while (a->chunk) {
		char *prev;
		memcpy(&prev, a->chunk, sizeof(char *));
		free(a->chunk);
		a->chunk = prev;
	}
	a->used = a->cap = 0;
}
