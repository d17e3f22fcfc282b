/*
 * points.c - the points and tier rules (docs/loyalty.md):
 *   points earned = floor(total_cents * points_per_unit * multiplier_pct(tier) / 10000)
 *   where tier is the card's tier from its spend over the rolling window
 *   before this sale; a negative total (a return) takes points back.
 */
#include "loyalty/loy_int.h"

int loyi_tier_for(const struct loy_config *cfg, int64_t window_spend)
{
	int tier = 0;
	for (int i = 1; i < cfg->tier_count && i < LOY_TIER_MAX; i++)
		if (window_spend >= cfg->tier_threshold_cents[i])
			tier = i;
	return tier;
}

int64_t loyi_points_for(const struct loy_config *cfg, int tier, int64_t total_cents)
{
	int mult = (tier >= 0 && tier < LOY_TIER_MAX) ? cfg->tier_multiplier_pct[tier] : 100;
	/* Integer arithmetic only; C division truncates toward zero for returns too. */
	return total_cents * cfg->points_per_unit * mult / 10000;
}
