/*
 * till_throttle.c - bad coupons slow a lane down (docs/till.md, "Coupon
 * throttle"). A coupon's MAC is 26.6 bits (docs/rules.md, "Coupons"): that
 * is enough only while a guess costs a scan and guesses cannot be fast. So
 * each lane counts its bad coupons (not a coupon layout, does not verify,
 * names no offer): 3 within 10 minutes lock the lane's coupon scans for 1
 * minute, the next lock 2, then 4, 8, at most 15 minutes; an hour without a
 * bad coupon starts again at 1 minute. Expired coupons and coupons of
 * another card are not guesses (their MAC verified) and do not count.
 *
 * State is per lane (struct till), in a small table here so that the till's
 * own struct needs no field; the daemon's lanes may call from several
 * threads, hence the mutex.
 */
#include "terminal/till_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SEC_US INT64_C(1000000)
#define TH_SLOTS 64
#define TH_STRIKES 3
#define TH_WINDOW_US (10 * 60 * SEC_US)
#define TH_LOCK_FIRST_US (60 * SEC_US)
#define TH_LOCK_MAX_US (15 * 60 * SEC_US)
#define TH_CLEAN_US (60 * 60 * SEC_US)

struct th_lane {
	const struct till *t;      /* NULL = free */
	int64_t strike_us[TH_STRIKES]; /* the last bad coupons, ring */
	int n_strikes;
	int64_t last_strike_us;
	int64_t locked_until_us;
	int64_t lock_us;           /* length of the last lock (0 = none yet) */
	int64_t used_us;           /* for reuse of the least recently used slot */
};

static struct th_lane lanes[TH_SLOTS];
static pthread_mutex_t lanes_mu = PTHREAD_MUTEX_INITIALIZER;

static struct th_lane *lane_of(const struct till *t, int64_t now)
{
	struct th_lane *free_slot = NULL, *oldest = &lanes[0];
	for (int i = 0; i < TH_SLOTS; i++) {
		if (lanes[i].t == t)
			return &lanes[i];
		if (!lanes[i].t && !free_slot)
			free_slot = &lanes[i];
		if (lanes[i].used_us < oldest->used_us)
			oldest = &lanes[i];
	}
	struct th_lane *l = free_slot ? free_slot : oldest;
	memset(l, 0, sizeof(*l));
	l->t = t;
	l->used_us = now;
	return l;
}

/* A bad coupon on lane l at now: lock the lane when it is the third in the window. */
static void strike(struct th_lane *l, int64_t now)
{
	if (l->last_strike_us && now - l->last_strike_us > TH_CLEAN_US)
		l->lock_us = 0;
	l->last_strike_us = now;
	l->strike_us[l->n_strikes++ % TH_STRIKES] = now;
	if (l->n_strikes < TH_STRIKES)
		return;
	int64_t first = l->strike_us[l->n_strikes % TH_STRIKES];   /* the oldest of the last three */
	if (now - first > TH_WINDOW_US)
		return;
	l->lock_us = l->lock_us ? l->lock_us * 2 : TH_LOCK_FIRST_US;
	if (l->lock_us > TH_LOCK_MAX_US)
		l->lock_us = TH_LOCK_MAX_US;
	l->locked_until_us = now + l->lock_us;
	l->n_strikes = 0;
	pm_warn("%d bad coupons on this lane within %d minutes: its coupon scans are refused for %d s "
		"(a guard against guessed codes)", TH_STRIKES, (int)(TH_WINDOW_US / 60 / SEC_US),
		(int)(l->lock_us / SEC_US));
}

/* Is this scan a guess (a bad coupon whose MAC did not verify)? Verifies it as till_coupon_scan will. */
static bool is_guess(const struct till *t, const struct scan_result *r, int64_t now)
{
	struct ofr_coupon c;
	bool pending;
	char why[200];
	if (r->kind != SCAN_COUPON || !t->offers_ready)
		return false;   /* not a coupon at all, or a till that cannot check any */
	int rc = ofr_coupon_verify(&t->offers.key, t->offers.rules, t->offers.prefix, r->coupon, t->card, now, &c,
				   &pending, why, sizeof(why));
	return rc == PM_EINVAL || rc == PM_ECHECK || (rc == PM_EREFUSED && c.version == 0);
}

int till_throttle_coupon(struct till *t, const struct scan_result *r, char *reason, size_t reason_len)
{
	int64_t now = t->clock_us ? t->clock_us : pm_now_us();
	pthread_mutex_lock(&lanes_mu);
	struct th_lane *l = lane_of(t, now);
	l->used_us = now;
	int64_t left = l->locked_until_us - now;
	pthread_mutex_unlock(&lanes_mu);
	if (left > 0) {
		snprintf(reason, reason_len, "too many bad coupons on this lane: coupon scans are refused for "
			 "another %d s (a guard against guessed codes); hand the coupon back, or try it again "
			 "then", (int)((left + SEC_US - 1) / SEC_US));
		return PM_EREFUSED;
	}
	if (is_guess(t, r, now)) {   /* outside the lock: verification may take a rule-set scan */
		pthread_mutex_lock(&lanes_mu);
		strike(lane_of(t, now), now);
		pthread_mutex_unlock(&lanes_mu);
	}
	return PM_OK;
}
