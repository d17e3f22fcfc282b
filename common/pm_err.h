/*
 * pm_err.h - the one error enum of posmark, shared by every module.
 *
 * 0 is success, failures are negative. Codes are recorded in logs, HQ
 * records and CLI exit paths, so a code is never renumbered or reused:
 * retire one by renaming it PM_EOBSOLETEnn and keep its slot.
 * pm_strerror() returns "PM_EXXX: text" and pm_errname() "PM_EXXX"; the
 * tables in pm_err.c are checked against PM_ERR_COUNT at compile time.
 */
#ifndef PM_ERR_H
#define PM_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum pm_err {
	PM_OK = 0,
	PM_EIO = -1,        /* device or file I/O failed */
	PM_ENOMEM = -2,     /* out of memory */
	PM_EINVAL = -3,     /* bad argument or malformed input */
	PM_ENOENT = -4,     /* no such card, sale, product or file */
	PM_EFULL = -5,      /* disk or purchase log full */
	PM_EBADSTATE = -6,  /* object failed earlier or wrong state; reopen/abort */
	PM_EEXIST = -7,     /* already exists (duplicate sale id, used coupon) */
	PM_ECORRUPT = -8,   /* stored data is damaged or foreign */
	PM_EVERSION = -9,   /* format version this build cannot read */
	PM_ECHECK = -10,    /* check digit or MAC does not verify */
	PM_ETIMEOUT = -11,  /* device or peer did not answer in time */
	PM_ENOTSUP = -12,   /* operation not supported by this backend */
	PM_EBUSY = -13,     /* resource held by another process */
	PM_ENODEV = -14,    /* device vanished or is absent */
	PM_EPAPER = -15,    /* printer: paper out or cover open */
	PM_EOFFLINE = -16,  /* printer or HQ offline / unreachable */
	PM_EREFUSED = -17,  /* peer refused the request (auth, policy) */
	PM_EPROTO = -18,    /* peer spoke garbage */
	PM_EEXPIRED = -19,  /* coupon or credential past its validity */
};
#define PM_ERR_COUNT 20

/* "PM_EXXX: short text" for a code; never NULL. */
const char *pm_strerror(int err);
/* The code's name alone, "PM_EXXX" (logs, JSON "error" fields); never NULL. */
const char *pm_errname(int err);

/* Map an errno value (positive) to a pm_err. */
int pm_from_errno(int errnum);

#endif
