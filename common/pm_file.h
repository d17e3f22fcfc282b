/*
 * pm_file.h - whole files: read one into memory, replace one atomically.
 *
 * pm_file_replace is the only way posmark rewrites a file in place (rule
 * sets, keys, state files): a reader, or a machine that loses power at any
 * moment, sees either the whole old file or the whole new one, never a
 * mix, and once it returns PM_OK the new file survives a power cut:
 *   write DIR/.NAME.tmp.PID, fsync it, rename over NAME, fsync DIR.
 *
 * Errors: PM_ENOENT (no such file, read only), PM_EFULL (disk full),
 * PM_ENOMEM, PM_EINVAL (larger than max), PM_EIO (anything else); errno
 * is left as the failing call set it, so a caller can print strerror.
 * On a failed replace the old file is untouched and the temp file removed.
 * Threads: safe from any thread (no shared state); two writers of the
 * same path race like two renames do (last one wins, both whole).
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

/* Replace path's contents with len bytes, durably (above); mode for a new file. */
int pm_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* fsync the directory that holds path (after a rename or unlink in it). */
int pm_fsync_parent(const char *path);

#endif
