/* pm_err.c - string table for enum pm_err. */
#include "pm_err.h"

#include <errno.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const pm_errstr[] = {
	"PM_OK: success",
	"PM_EIO: input/output error",
	"PM_ENOMEM: out of memory",
	"PM_EINVAL: invalid input",
	"PM_ENOENT: not found",
	"PM_EFULL: disk or purchase log is full",
	"PM_EBADSTATE: object is in a failed or wrong state",
	"PM_EEXIST: already exists",
	"PM_ECORRUPT: data is corrupt or not posmark's",
	"PM_EVERSION: unsupported format version",
	"PM_ECHECK: check digit or signature does not verify",
	"PM_ETIMEOUT: timed out",
	"PM_ENOTSUP: not supported",
	"PM_EBUSY: resource busy",
	"PM_ENODEV: device not present",
	"PM_EPAPER: printer paper out or cover open",
	"PM_EOFFLINE: peer offline",
	"PM_EREFUSED: refused by peer",
	"PM_EPROTO: protocol error",
	"PM_EEXPIRED: expired",
};
_Static_assert(ARRAY_SIZE(pm_errstr) == PM_ERR_COUNT, "update pm_errstr with enum pm_err");

const char *pm_strerror(int err)
{
	if (err > 0 || -err >= PM_ERR_COUNT)
		return "PM_E?: unknown error code";
	return pm_errstr[-err];
}

const char *pm_errname(int err)
{
	static const char *const names[] = {
		"PM_OK", "PM_EIO", "PM_ENOMEM", "PM_EINVAL", "PM_ENOENT", "PM_EFULL",
		"PM_EBADSTATE", "PM_EEXIST", "PM_ECORRUPT", "PM_EVERSION", "PM_ECHECK",
		"PM_ETIMEOUT", "PM_ENOTSUP", "PM_EBUSY", "PM_ENODEV", "PM_EPAPER",
		"PM_EOFFLINE", "PM_EREFUSED", "PM_EPROTO", "PM_EEXPIRED",
	};
	_Static_assert(ARRAY_SIZE(names) == PM_ERR_COUNT, "update names with enum pm_err");
	if (err > 0 || -err >= PM_ERR_COUNT)
		return "PM_E?";
	return names[-err];
}

int pm_from_errno(int errnum)
{
	switch (errnum) {
	case 0: return PM_OK;
	case ENOMEM: return PM_ENOMEM;
	case ENOENT: return PM_ENOENT;
	case ENOSPC: case EFBIG: case EDQUOT: return PM_EFULL;
	case EINVAL: return PM_EINVAL;
	case EEXIST: return PM_EEXIST;
	case ETIMEDOUT: return PM_ETIMEOUT;
	case EBUSY: case EAGAIN: return PM_EBUSY;
	case ENODEV: case ENXIO: return PM_ENODEV;
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: return PM_EOFFLINE;
	default: return PM_EIO;
	}
}
