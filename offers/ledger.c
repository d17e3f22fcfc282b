/*
 * ledger.c - what was issued (printed), for the caps: coupons per campaign
 * (the store budget) and the last issue of each rule to each card (the
 * frequency cap). In memory only: the terminal replays loyalty's
 * OFFER_ISSUED events into it at start, then records each printed coupon.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ofr_ledger {
	struct ofri_map campaign_slot;   /* hash(campaign) -> index into counts */
	uint64_t *counts;
	size_t n_counts, cap_counts;
	struct ofri_map last_slot;       /* hash(rule \x1f card) -> index into last */
	int64_t *last;
	size_t n_last, cap_last;
};

int ofr_ledger_new(struct ofr_ledger **out)
{
	struct ofr_ledger *l = calloc(1, sizeof(*l));
	*out = NULL;
	if (!l)
		return PM_ENOMEM;
	if (ofri_map_init(&l->campaign_slot, 16) || ofri_map_init(&l->last_slot, 256)) {
		ofr_ledger_free(l);
		return PM_ENOMEM;
	}
	*out = l;
	return PM_OK;
}

void ofr_ledger_free(struct ofr_ledger *l)
{
	if (!l)
		return;
	ofri_map_release(&l->campaign_slot);
	ofri_map_release(&l->last_slot);
	free(l->counts);
	free(l->last);
	free(l);
}

static uint64_t pair_key(const char *rule_id, const char *card)
{
	char buf[OFR_ID_MAX + 32];
	snprintf(buf, sizeof(buf), "%s\x1f%s", rule_id, card ? card : "");
	return ofri_hash_str(buf);
}

int ofr_ledger_record(struct ofr_ledger *l, const char *campaign, const char *rule_id,
		      const char *card, int64_t time_us)
{
	uint32_t slot;
	int rc;
	uint64_t ck = ofri_hash_str(campaign);
	if (ofri_map_get(&l->campaign_slot, ck, &slot)) {
		l->counts[slot]++;
	} else {
		if ((rc = ofri_grow((void **)&l->counts, &l->cap_counts, l->n_counts + 1, sizeof(*l->counts))))
			return rc;
		l->counts[l->n_counts] = 1;
		if ((rc = ofri_map_put(&l->campaign_slot, ck, (uint32_t)l->n_counts++)))
			return rc;
	}
	if (!card || !card[0])
		return PM_OK;
	uint64_t pk = pair_key(rule_id, card);
	if (ofri_map_get(&l->last_slot, pk, &slot)) {
		if (time_us > l->last[slot])
			l->last[slot] = time_us;
		return PM_OK;
	}
	if ((rc = ofri_grow((void **)&l->last, &l->cap_last, l->n_last + 1, sizeof(*l->last))))
		return rc;
	l->last[l->n_last] = time_us;
	return ofri_map_put(&l->last_slot, pk, (uint32_t)l->n_last++);
}

uint64_t ofr_ledger_issued(const struct ofr_ledger *l, const char *campaign)
{
	uint32_t slot;
	return l && ofri_map_get(&l->campaign_slot, ofri_hash_str(campaign), &slot) ? l->counts[slot] : 0;
}

int64_t ofri_ledger_last(const struct ofr_ledger *l, const char *rule_id, const char *card)
{
	uint32_t slot;
	if (!l || !card || !card[0])
		return 0;
	return ofri_map_get(&l->last_slot, pair_key(rule_id, card), &slot) ? l->last[slot] : 0;
}
