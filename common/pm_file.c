/* pm_file.c - read a whole file; durable atomic replace (pm_file.h). */
#include "common/pm_file.h"
#include "common/pm_err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pm_file_read(const char *path, size_t max, char **out, size_t *len)
{
	*out = NULL;
	if (len)
		*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? PM_ENOENT : pm_from_errno(errno);
	struct stat st;
	size_t cap = 4096;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	if (max && cap - 1 > max)   /* not cap > max + 1: max may be SIZE_MAX */
		cap = max + 1;
	char *buf = malloc(cap + 1);
	size_t n = 0;
	int rc = buf ? PM_OK : PM_ENOMEM;
	while (rc == PM_OK) {
		if (n == cap) {
			if (max && n > max)
				break;
			char *p = realloc(buf, cap * 2 + 1);
			if (!p) {
				rc = PM_ENOMEM;
				break;
			}
			buf = p;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = pm_from_errno(errno);
		else if (k == 0)
			break;
		else
			n += (size_t)k;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	if (rc == PM_OK && max && n > max)
		rc = PM_EINVAL;
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return PM_OK;
}

int pm_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return PM_EINVAL;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pm_from_errno(errno);
	int rc = fsync(dfd) ? pm_from_errno(errno) : PM_OK;
	close(dfd);
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return pm_from_errno(errno);
		p += k;
		len -= (size_t)k;
	}
	return PM_OK;
}

int pm_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	/* A name of its own per call (pid and a process-wide counter, O_EXCL):
	 * two threads replacing the same file never write into one temp file. */
	static atomic_uint seq;
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dl = slash ? (int)(slash - path + 1) : 0;
	int fd = -1;

	if (!*base)
		return PM_EINVAL;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		if (snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp.%ld.%u", dl, path, base, (long)getpid(),
			     atomic_fetch_add(&seq, 1)) >= (int)sizeof(tmp))
			return PM_EINVAL;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			return pm_from_errno(errno);
	}
	if (fd < 0)
		return PM_EEXIST;
	int rc = write_all(fd, data, len);
	if (!rc && fsync(fd))
		rc = pm_from_errno(errno);
	if (close(fd) && !rc)
		rc = pm_from_errno(errno);
	if (!rc && rename(tmp, path))
		rc = pm_from_errno(errno);
	if (rc) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
		return rc;
	}
	return pm_fsync_parent(path);
}
