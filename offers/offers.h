/*
 * offers.h - the on-device rules engine: rule sets, offer decisions,
 * coupons, and market-basket mining. Depends on libc and jansson only;
 * card history reaches it through an interface the terminal fills in.
 */
#ifndef OFFERS_H
#define OFFERS_H

#endif
