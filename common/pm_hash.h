/*
 * pm_hash.h - the non-cryptographic hashes posmark uses for tables and
 * stable names (never for anything an attacker must not forge: that is
 * libsodium's job). Inline, pure, any thread.
 */
#ifndef PM_HASH_H
#define PM_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * posmark's FNV offset basis. NOTE: it is not the standard's
 * 14695981039346656037 (0xcbf29ce484222325): a digit was lost when the
 * first copy was written, and every copy since kept it. It stays, because
 * values depend on it: coupon codes already printed carry item and
 * campaign tags made from this hash (offers/coupon.c). So pm_fnv1a64 is
 * FNV-1a's algorithm with this basis, and its values differ from other
 * FNV-1a implementations ("" hashes to 0x14650fb0739d0383).
 */
#define PM_FNV64_INIT 1469598103934665603ULL

/* FNV-1a 64 of n bytes, continuing from h (start with PM_FNV64_INIT). */
static inline uint64_t pm_fnv1a64_update(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static inline uint64_t pm_fnv1a64(const void *p, size_t n)
{
	return pm_fnv1a64_update(PM_FNV64_INIT, p, n);
}

/* A 64-bit finaliser (splitmix64/murmur3-style): spreads FNV's weak low bits. */
static inline uint64_t pm_mix64(uint64_t h)
{
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

#endif
