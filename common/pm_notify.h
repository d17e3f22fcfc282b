/*
 * pm_notify.h - the service manager's readiness protocol (sd_notify(3)),
 * written out: one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).
 * Without $NOTIFY_SOCKET nothing is sent and PM_OK is returned, so callers
 * just call it. No libsystemd; libc only.
 *
 * What the programs send (docs/daemon.md, docs/hq.md):
 *   posmark daemon   READY=1 + STATUS=... once the log is open and the socket
 *                    listens; RELOADING=1 + MONOTONIC_USEC=... then READY=1
 *                    around a SIGHUP reload; STOPPING=1 on shutdown
 *   posmark-hq serve READY=1 + STATUS=... once listening; STOPPING=1
 * The variable is left set (children such as the sync child never notify).
 */
#ifndef PM_NOTIFY_H
#define PM_NOTIFY_H

/*
 * Send state (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET.
 * Returns PM_OK (sent, or no socket named), PM_EINVAL ($NOTIFY_SOCKET is
 * not an absolute path or @name, or is too long), PM_EIO (socket or send
 * failed; errno tells why).
 */
int pm_notify(const char *state);

/* The same with printf formatting (at most 1 KiB). */
int pm_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
