/*
 * hq_ingest_cards.c - a batch's card numbers and their refs (hq_int.h,
 * struct hqi_batch_cards): found by a quick scan of the batch's text before
 * its transaction, turned into refs in it before the COPY (hq_vault.h), and
 * each record's card column answered from them while the batch is decoded. A
 * sales batch's new vault rows go beside the batch (hq_vault_rows.c) and are
 * committed or rolled back with it here.
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ref of a card erased at HQ whose erasure the till has not applied yet:
 * its records are stored without the card, as if the erasure had come first. */
#define REF_ERASED "-"

static int by_number(const void *a, const void *b)
{
	return strcmp(((const struct hqv_card *)a)->number, ((const struct hqv_card *)b)->number);
}

static int card_push(struct hqv_card **v, size_t *n, size_t *cap, const char *number, size_t len)
{
	if (len < 1 || len > HQV_NUMBER_MAX)
		return PM_OK; /* not a card: the decoder refuses the line */
	if (*n == *cap) {
		size_t c2 = *cap ? 2 * *cap : 256;
		struct hqv_card *nv = realloc(*v, c2 * sizeof(*nv));
		if (!nv)
			return PM_ENOMEM;
		*v = nv;
		*cap = c2;
	}
	struct hqv_card *k = &(*v)[(*n)++];
	memset(k, 0, sizeof(*k));
	memcpy(k->number, number, len);
	return PM_OK;
}

int hqi_cards_add(struct hqi_batch_cards *b, const char *number, size_t len)
{
	return card_push(&b->v, &b->n, &b->cap, number, len);
}

/* Sort the numbers (with the ones the prescan missed) and drop repeats. */
int hqi_cards_unique(struct hqi_batch_cards *b)
{
	size_t d = 0;
	for (size_t i = 0; i < b->n_extra; i++)
		if (hqi_cards_add(b, b->extra[i].number, strlen(b->extra[i].number)))
			return PM_ENOMEM;
	b->n_extra = 0;
	if (b->n) /* qsort and bsearch want an array, even of none */
		qsort(b->v, b->n, sizeof(*b->v), by_number);
	for (size_t i = 0; i < b->n; i++)
		if (!d || strcmp(b->v[d - 1].number, b->v[i].number))
			b->v[d++] = b->v[i];
	b->n = d;
	return PM_OK;
}

/* The card column of a record: its ref, or NULL (no card, or erased at HQ).
 * A number the prescan missed is noted (the decode goes on, to find them all)
 * and the attempt is redone. */
int hqi_cards_ref(struct hqi_batch_cards *b, const char *number, const char **ref)
{
	struct hqv_card key, *hit;
	*ref = NULL;
	b->ref_fresh = false;
	if (!number[0])
		return PM_OK;
	snprintf(key.number, sizeof(key.number), "%s", number);
	hit = b->n ? bsearch(&key, b->v, b->n, sizeof(*b->v), by_number) : NULL;
	if (!hit || !hit->ref[0]) {
		b->missed = true;
		return hit ? PM_OK : card_push(&b->extra, &b->n_extra, &b->cap_extra, number, strlen(number));
	}
	if (strcmp(hit->ref, REF_ERASED)) {
		*ref = hit->ref;
		b->ref_fresh = hit->made;
	}
	else
		b->n_unlinked++;
	return PM_OK;
}

/*
 * The batch's card numbers to refs, in the batch's transaction, before its
 * COPY: one round trip for the store's pending erasures, one or two for the
 * vault (hq_vault.h). A till may sell to a card after HQ erased it and
 * before its next sync applies the erasure (the request is still pending
 * in downlink, with the number's lookup): such records are stored without
 * the card, as if the erasure had come first. Once the till has applied and
 * acknowledged it, a sale with that number is a new sign-up: a new ref.
 */
int hqi_cards_resolve(PGconn *c, struct hqi_batch_cards *b, const char *store, bool sales, char *err, size_t errlen)
{
	const char *pv[1] = { store };
	struct hqv_card *todo = NULL;
	size_t n = 0;
	int rc;
	if (!b->n)
		return PM_OK;
	if ((rc = hqv_load(c, err, errlen)))
		return rc;
	PGresult *r = hqi_query(c, "SELECT lookup FROM downlink WHERE store_id = $1 AND type = 'erasure'"
				" AND lookup IS NOT NULL", 1, pv, true, err, errlen);
	if (!r)
		return PM_EIO;
	for (size_t i = 0; i < b->n; i++) {
		struct hqv_card *k = &b->v[i];
		k->ref[0] = '\0';
		k->made = false;
		if (PQntuples(r) && !hqv_lookup_of(k->number, k->lookup))
			for (int j = 0; j < PQntuples(r) && !k->ref[0]; j++)
				if (PQgetlength(r, j, 0) == HQV_LOOKUP_LEN && !memcmp(PQgetvalue(r, j, 0), k->lookup, HQV_LOOKUP_LEN))
					snprintf(k->ref, sizeof(k->ref), REF_ERASED);
	}
	PQclear(r);
	if (!(todo = malloc(b->n * sizeof(*todo)))) {
		snprintf(err, errlen, "out of memory");
		return PM_ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++)
		if (!b->v[i].ref[0])
			todo[n++] = b->v[i];
	/* a sales batch's new vault rows go on the second connection while its COPY runs here
	 * (hq_vault_rows.c; POSMARK_HQ_VAULT_BESIDE=off, or no second connection: here) */
	const char *off = getenv("POSMARK_HQ_VAULT_BESIDE");
	PGconn *side = sales && !b->beside_off && !(off && !strcmp(off, "off"))
			       ? hqi_side_conn_slot(c, HQI_SIDE_VAULT) : NULL;
	rc = side ? hqv_refs_for_beside(c, side, todo, n, &b->beside, err, errlen)
		  : hqv_refs_for_cached(c, todo, n, err, errlen);
	if (!rc) {
		/* todo came back in lookup order: by number again, merged into the batch's list */
		if (n)
			qsort(todo, n, sizeof(*todo), by_number);
		for (size_t i = 0, j = 0; i < b->n && j < n; i++)
			if (!strcmp(b->v[i].number, todo[j].number)) {
				b->v[i].made = todo[j].made;
				memcpy(b->v[i].ref, todo[j++].ref, sizeof(todo[0].ref));
			}
	}
	free(todo);
	return rc;
}

/* A sales batch's card numbers from a quick scan of the text ("card":"DIGITS"),
 * so their refs are known before COPY starts; one the scan misses costs one
 * more attempt (hqi_cards_ref). */
int hqi_cards_prescan(struct hqi_batch_cards *b, const char *raw, size_t len)
{
	static const char key[] = "\"card\"";
	const char *p = raw, *end = raw + len;
	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
		p += sizeof(key) - 1;
		while (p < end && (*p == ' ' || *p == ':')) /* "card": "..." too */
			p++;
		if (p == end || *p++ != '"')
			continue;
		size_t n = 0;
		while (p + n < end && p[n] >= '0' && p[n] <= '9')
			n++;
		if (p + n < end && p[n] == '"') {
			int rc = hqi_cards_add(b, p, n);
			if (rc)
				return rc;
		}
		p += n;
	}
	return hqi_cards_unique(b);
}

int hqi_cards_commit(struct hqi_batch_cards *b, char *err, size_t errlen)
{
	if (!b->beside)
		return PM_OK;
	int rc = hqv_beside_end(b->beside, true, err, errlen);
	b->beside = NULL;
	if (rc == PM_EBUSY)
		b->beside_off = true;
	return rc;
}

void hqi_cards_abort(struct hqi_batch_cards *b)
{
	if (b->beside)
		hqv_beside_end(b->beside, false, NULL, 0);
	b->beside = NULL;
}

void hqi_cards_free(struct hqi_batch_cards *b)
{
	hqi_cards_abort(b);
	if (b->v)
		sodium_memzero(b->v, b->cap * sizeof(*b->v));
	if (b->extra)
		sodium_memzero(b->extra, b->cap_extra * sizeof(*b->extra));
	free(b->v);
	free(b->extra);
	memset(b, 0, sizeof(*b));
}
