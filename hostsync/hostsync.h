/*
 * hostsync.h - upload of the purchase log to HQ (store-and-forward),
 * rule-set download, and HQ's receiver. Reads sales through an interface
 * the terminal fills in; never includes loyalty's header.
 */
#ifndef HOSTSYNC_H
#define HOSTSYNC_H

#endif
