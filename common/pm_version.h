/*
 * pm_version.h - the one version of both programs and where they look for
 * their configuration. Both are macros so a build can set them:
 *   make SYSCONFDIR=/usr/local/etc   (the Makefile passes -DPM_SYSCONFDIR)
 * `posmark --version` prints "posmark PM_VERSION", `posmark-hq --version`
 * "posmark-hq PM_VERSION".
 */
#ifndef PM_VERSION_H
#define PM_VERSION_H

#define PM_VERSION "0.12.0"

/* The directory that holds posmark/posmark.conf and posmark/hq.conf. */
#ifndef PM_SYSCONFDIR
#define PM_SYSCONFDIR "/etc"
#endif

#endif
