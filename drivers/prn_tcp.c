/*
 * prn_tcp.c - the tcp: printer backend: ESC/POS over a raw TCP socket
 * (port 9100, "JetDirect"), with DLE EOT real-time status before and after
 * each receipt. Every step (connect, write, status reply) has the device's
 * timeout. The connection is made lazily and dropped on any error, so a
 * printer switched off and on again is reconnected by the next print.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcp_priv {
	struct prni_fd io;         /* first: prni_fd_op_write/close use it */
	char host[256];
	char port[8];
};

static int op_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
{
	struct tcp_priv *t = p->priv;
	const char *colon;
	t->io.fd = -1;
	snprintf(t->port, sizeof(t->port), "9100");
	if (arg[0] == '[') {                       /* [IPv6]:port */
		const char *close = strchr(arg, ']');
		if (!close || (close[1] && close[1] != ':')) {
			snprintf(errbuf, errlen, "printer address '%s' is malformed; write tcp:[::1]:9100", arg);
			return PM_EINVAL;
		}
		snprintf(t->host, sizeof(t->host), "%.*s", (int)(close - arg - 1), arg + 1);
		colon = close[1] ? close + 1 : NULL;
	} else {
		colon = strrchr(arg, ':');
		snprintf(t->host, sizeof(t->host), "%.*s", (int)(colon ? (size_t)(colon - arg) : strlen(arg)), arg);
	}
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535) {
			snprintf(errbuf, errlen, "printer port '%s' is not a port number 1..65535", colon + 1);
			return PM_EINVAL;
		}
		snprintf(t->port, sizeof(t->port), "%ld", port);
	}
	if (!t->host[0]) {
		snprintf(errbuf, errlen, "printer address has no host; write tcp:HOST[:PORT]");
		return PM_EINVAL;
	}
	return PM_OK;
}

static int connect_timeout(struct prn_dev *p)
{
	struct tcp_priv *t = p->priv;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int rc = PM_EOFFLINE;
	if (t->io.fd >= 0)
		return PM_OK;
	if (getaddrinfo(t->host, t->port, &hints, &res) != 0) {
		pm_warn("prn %s: cannot resolve '%s'", p->name, t->host);
		return PM_EOFFLINE;
	}
	for (ai = res; ai && t->io.fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t el = sizeof(err);
		int r = poll(&pfd, 1, p->timeout_ms);
		if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0) {
			t->io.fd = fd;
			rc = PM_OK;
		} else {
			rc = r == 0 ? PM_ETIMEOUT : PM_EOFFLINE;
			close(fd);
		}
	}
	freeaddrinfo(res);
	if (rc)
		pm_info("prn %s: cannot connect: %s", p->name, pm_strerror(rc));
	return rc;
}

static int op_status(struct prn_dev *p, int *state)
{
	struct tcp_priv *t = p->priv;
	int rc;
	*state = PRN_OFFLINE;
	if ((rc = connect_timeout(p)))
		return rc;
	if (!p->profile->rt_status) {
		*state = PRN_READY;
		return PM_OK;
	}
	rc = prni_escpos_query_fd(t->io.fd, p->timeout_ms, state);
	if (rc) {
		pm_warn("prn %s: status query failed: %s", p->name, pm_strerror(rc));
		prni_fd_disconnect(&t->io);    /* a late reply must not be read as the next answer */
		*state = PRN_OFFLINE;
	}
	return rc;
}

const struct prn_ops prn_tcp_ops = {
	.name = "ESC/POS over TCP",
	.scheme = "tcp",
	.priv_size = sizeof(struct tcp_priv),
	.open = op_open,
	.write = prni_fd_op_write,
	.status = op_status,
	.close = prni_fd_op_close,
};
