/*
 * scan_serial.c - the serial:/dev/ttyXXX[,BAUD] scanner backend: scanners
 * in USB CDC-ACM or RS-232 mode (/dev/ttyACM*, /dev/ttyUSB*, /dev/ttyS*).
 * The tty is put in raw mode (termios: no echo, no line editing, 8N1,
 * CLOCAL) at BAUD (default 9600); each scan is a line ended by CR, LF or
 * CRLF. A partial line waits for the rest across reads. A port that hangs
 * up (USB-serial unplugged) returns PM_ENODEV once and is reopened by path.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct serial_priv {
	char path[256];
	speed_t speed;
	int fd;
	struct scani_line line;
	char pend[256];            /* bytes read but not yet split into lines */
	size_t pend_n, pend_i;
};

static const struct { long baud; speed_t speed; } bauds[] = {
	{ 1200, B1200 }, { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 }, { 19200, B19200 },
	{ 38400, B38400 }, { 57600, B57600 }, { 115200, B115200 },
};

static int reopen(struct scan_dev *s)
{
	struct serial_priv *p = s->priv;
	struct termios tio;
	if (p->fd >= 0)
		return PM_OK;
	p->fd = open(p->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0)
		return pm_from_errno(errno);
	if (tcgetattr(p->fd, &tio) == 0) {
		cfmakeraw(&tio);
		tio.c_cflag |= CLOCAL | CREAD;
		tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
		tio.c_cc[VMIN] = 0;
		tio.c_cc[VTIME] = 0;
		cfsetispeed(&tio, p->speed);
		cfsetospeed(&tio, p->speed);
		if (tcsetattr(p->fd, TCSANOW, &tio) != 0)
			pm_warn("scan %s: cannot set raw mode: %s", s->name, strerror(errno));
	} else {
		pm_warn("scan %s: not a terminal (%s): reading it as a byte stream", s->name, strerror(errno));
	}
	memset(&p->line, 0, sizeof(p->line));
	p->pend_n = p->pend_i = 0;
	return PM_OK;
}

static int op_open(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen)
{
	struct serial_priv *p = s->priv;
	const char *comma = strchr(arg, ',');
	size_t plen = comma ? (size_t)(comma - arg) : strlen(arg);
	p->fd = -1;
	p->speed = B9600;
	if (plen == 0 || plen >= sizeof(p->path)) {
		snprintf(errbuf, errlen, "scanner port '%s' is not valid; write serial:/dev/ttyACM0[,9600]", arg);
		return PM_EINVAL;
	}
	if (comma) {
		char *end;
		long b = strtol(comma + 1, &end, 10);
		size_t i;
		for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++)
			if (bauds[i].baud == b)
				break;
		if (*end || i == sizeof(bauds) / sizeof(bauds[0])) {
			snprintf(errbuf, errlen, "baud rate '%s' is not supported; use 1200..115200 "
				 "(9600 is the scanners' default)", comma + 1);
			return PM_EINVAL;
		}
		p->speed = bauds[i].speed;
	}
	memcpy(p->path, arg, plen);
	p->path[plen] = '\0';
	int rc = reopen(s);
	if (rc)
		snprintf(errbuf, errlen, "cannot open scanner port '%s': %s; check the path and that posmark "
			 "may use it (dialout group)", p->path, pm_strerror(rc));
	return rc;
}

static void drop(struct serial_priv *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static int op_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms)
{
	struct serial_priv *p = s->priv;
	int64_t deadline = timeout_ms < 0 ? -1 : scani_now_ms() + timeout_ms;
	bool first = true;
	for (;;) {
		while (p->pend_i < p->pend_n)
			if (scani_line_push(&p->line, p->pend[p->pend_i++], out) == 1)
				return PM_OK;
		size_t k;
		int r = scani_fd_read(s, &p->fd, reopen, deadline, &first, p->pend, sizeof(p->pend), &k,
				      "port hung up");
		if (r == 0)
			continue;
		if (r < 0) {
			if (r == PM_ENODEV)
				drop(p);
			return r;
		}
		p->pend_n = k;
		p->pend_i = 0;
	}
}

static int op_fd(struct scan_dev *s)
{
	return ((struct serial_priv *)s->priv)->fd;
}

static void op_close(struct scan_dev *s)
{
	drop(s->priv);
}

const struct scan_ops scan_serial_ops = {
	.name = "serial scanner",
	.scheme = "serial",
	.priv_size = sizeof(struct serial_priv),
	.open = op_open,
	.read = op_read,
	.fd = op_fd,
	.close = op_close,
};
