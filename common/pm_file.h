/*
 * pm_file.h - whole files: read one into memory, replace one atomically.
 *
 * pm_file_replace is the only way posmark rewrites a file in place (rule
 * sets, keys, state files): a reader, or a machine that loses power at any
 * moment, sees either the whole old file or the whole new one, never a
 * mix, and once it returns PM_OK the new file survives a power cut:
 *   write DIR/.NAME.tmp.PID.N (a new name per call), fsync it, rename over
 *   NAME, fsync DIR.
 *
 * Errors: PM_ENOENT (no such file, read only), PM_EFULL (disk full or file
 * size limit), PM_ENOMEM, PM_EINVAL (larger than max; a path too long or
 * ending in '/'), PM_EIO (anything else, e.g. a directory that is not
 * writable); errno is left as the failing call set it, so a caller can
 * print strerror. On a failed replace the old file is untouched and the
 * temp file removed, except when only the last step (the directory's
 * fsync) fails: then NAME already has the new contents, durable or not.
 * Threads: safe from any thread; two writers of the same path race like
 * two renames do (last one wins, both whole).
 */
#ifndef PM_FILE_H
#define PM_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read the whole file into a new NUL-terminated buffer (*out, free()d by
 * the caller; *len without the NUL). A file larger than max bytes is
 * refused with PM_EINVAL (max 0: no limit).
 */
int pm_file_read(const char *path, size_t max, char **out, size_t *len);

/*
 * Replace path's contents with len bytes (data may be NULL when len is 0),
 * durably (above). The file gets mode (less the umask), whatever the old
 * file's mode was; a symbolic link at path is replaced, not followed.
 */
int pm_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* fsync the directory that holds path (after a rename or unlink in it). */
int pm_fsync_parent(const char *path);

#endif
