/*
 * escpos_emu.h - a receipt printer on 127.0.0.1 for tests: a thread that
 * accepts TCP connections (port 9100 style), parses the ESC/POS stream back
 * into a document with the drivers' reader, and answers DLE EOT n like an
 * Epson TM printer: ready (0x12), paper out (n=1 0x1a, n=2 0x32, n=4 0x72),
 * cover open (n=1 0x1a, n=2 0x16), paper running out after the first status
 * round, or never answering. Include after cmocka.h.
 */
#ifndef ESCPOS_EMU_H
#define ESCPOS_EMU_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

enum emu_mode { EMU_READY, EMU_PAPER_OUT, EMU_COVER_OPEN, EMU_SILENT, EMU_PAPER_RUNS_OUT };

struct emu {
	int lfd, port;
	pthread_t thr;
	pthread_mutex_t mu;
	int mode;
	int queries;               /* DLE EOT seen */
	int conn_fd;
	bool stop;
	struct prn_doc doc;        /* everything printed, parsed back */
	struct prni_escpos_parser ps;
};

static inline void emu_on_status(void *ctx, int n)
{
	struct emu *e = ctx;
	unsigned char r = 0x12;
	e->queries++;
	int mode = e->mode;
	if (mode == EMU_PAPER_RUNS_OUT && e->queries > 3)
		mode = EMU_PAPER_OUT;
	if (mode == EMU_SILENT)
		return;
	if (mode == EMU_PAPER_OUT)
		r = n == 1 ? 0x1a : n == 2 ? 0x32 : n == 4 ? 0x72 : 0x12;
	else if (mode == EMU_COVER_OPEN)
		r = n == 1 ? 0x1a : n == 2 ? 0x16 : 0x12;
	if (send(e->conn_fd, &r, 1, MSG_NOSIGNAL) != 1)
		return;
}

static inline void *emu_main(void *arg)
{
	struct emu *e = arg;
	unsigned char buf[8192 + 4096];
	size_t have = 0;
	while (!e->stop) {
		struct pollfd pfd = { .fd = e->lfd, .events = POLLIN };
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		int fd = accept(e->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		have = 0;
		for (;;) {
			struct pollfd cp = { .fd = fd, .events = POLLIN };
			int r = poll(&cp, 1, 50);
			if (e->stop)
				break;
			if (r <= 0)
				continue;
			ssize_t k = read(fd, buf + have, sizeof(buf) - have);
			if (k <= 0)
				break;
			have += (size_t)k;
			pthread_mutex_lock(&e->mu);
			e->conn_fd = fd;
			long used = prni_escpos_parser_feed(&e->ps, buf, have);
			pthread_mutex_unlock(&e->mu);
			if (used < 0)
				break;
			memmove(buf, buf + used, have - (size_t)used);
			have -= (size_t)used;
		}
		close(fd);
	}
	return NULL;
}

static inline void emu_start(struct emu *e, int mode)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	pthread_mutex_init(&e->mu, NULL);
	prn_doc_init(&e->doc, 42);
	prni_escpos_parser_init(&e->ps, &e->doc);
	e->ps.on_status = emu_on_status;
	e->ps.ctx = e;
	e->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(e->lfd >= 0);
	assert_int_equal(bind(e->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(e->lfd, 4), 0);
	getsockname(e->lfd, (struct sockaddr *)&sa, &sl);
	e->port = ntohs(sa.sin_port);
	pthread_create(&e->thr, NULL, emu_main, e);
}

static inline void emu_stop(struct emu *e)
{
	e->stop = true;
	pthread_join(e->thr, NULL);
	close(e->lfd);
	prn_doc_release(&e->doc);
	pthread_mutex_destroy(&e->mu);
}

static inline void emu_set_mode(struct emu *e, int mode)
{
	pthread_mutex_lock(&e->mu);
	e->mode = mode;
	e->queries = 0;
	pthread_mutex_unlock(&e->mu);
}

/* Wait (at most 2 s) until the emulator has seen `cuts` paper cuts. */
static inline unsigned long emu_wait_cuts(struct emu *e, unsigned long cuts)
{
	unsigned long got = 0;
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&e->mu);
		got = e->ps.cuts;
		pthread_mutex_unlock(&e->mu);
		if (got >= cuts)
			break;
		usleep(10000);
	}
	return got;
}

#endif
