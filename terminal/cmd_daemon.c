/* cmd_daemon.c - posmark daemon and posmark status. */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int cmd_daemon(int argc, char **argv)
{
	struct cli_common co;
	struct daemon *d;
	const char *socket_path = NULL, *scanner = NULL, *printer = NULL, *v;
	int rc;

	if (!(d = calloc(1, sizeof(*d))))
		return cli_fail("daemon", NULL, "out of memory");
	if ((rc = cli_setup(&argc, argv, &co, &d->cfg))) {
		free(d);
		return rc;
	}
	pm_log_init_from_env(PM_LOG_INFO);
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--socket")))
			socket_path = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--scanner")))
			scanner = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--printer")))
			printer = v;
		else {
			free(d);
			return cli_fail("daemon", "see posmark daemon --help", "unexpected argument '%s'", argv[i]) + 1;
		}
	}
	if (co.help) {
		term_help_command("daemon", stdout);
		free(d);
		return 0;
	}
	d->config_path = co.config;
	rc = daemon_run(d, socket_path ? socket_path : d->cfg.socket_path,
			scanner ? scanner : d->cfg.scanner, printer ? printer : d->cfg.printer);
	free(d);
	return rc;
}

/* One request, one reply line, over the daemon's socket. */
static int ask(const char *path, const char *req, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t have = 0;
	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, req, strlen(req)) < 0) {
		close(fd);
		return -1;
	}
	while (have + 1 < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 3000) <= 0)
			break;
		ssize_t n = read(fd, reply + have, len - have - 1);
		if (n <= 0)
			break;
		have += (size_t)n;
		if (memchr(reply, '\n', have))
			break;
	}
	close(fd);
	reply[have] = '\0';
	return have ? 0 : -1;
}

int cmd_status(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	const char *socket_path = NULL, *v;
	char reply[65536];
	int rc = cli_setup(&argc, argv, &co, &cfg);
	if (rc)
		return rc;
	for (int i = 1; i < argc; i++)
		if ((v = cli_opt_value(argc, argv, &i, "--socket")))
			socket_path = v;
	if (co.help) {
		term_help_command("status", stdout);
		return 0;
	}
	if (!socket_path)
		socket_path = cfg.socket_path;
	if (ask(socket_path, "{\"op\":\"status\"}\n", reply, sizeof(reply)) == 0) {
		json_t *o = json_loads(reply, 0, NULL);
		if (co.json || !o) {
			fputs(reply, stdout);
			json_decref(o);
			return o ? 0 : 1;
		}
		json_t *log = json_object_get(o, "log"), *dev = json_object_get(o, "devices");
		printf("daemon          running %lld s, terminal %s of store %s\n",
		       (long long)json_integer_value(json_object_get(o, "uptime_s")),
		       json_string_value(json_object_get(o, "terminal")), json_string_value(json_object_get(o, "store")));
		printf("scanner         %s\n", json_string_value(json_object_get(dev, "scanner")));
		printf("printer         %s (%s), %lld receipt(s) waiting\n", json_string_value(json_object_get(dev, "printer")),
		       json_string_value(json_object_get(dev, "printer_state")),
		       (long long)json_integer_value(json_object_get(dev, "receipts_waiting")));
		printf("log             %s: %lld sales, %lld cards, %.1f MiB used of %.1f MiB mapped\n",
		       json_string_value(json_object_get(log, "path")),
		       (long long)json_integer_value(json_object_get(log, "sales")),
		       (long long)json_integer_value(json_object_get(log, "cards")),
		       json_integer_value(json_object_get(log, "used_bytes")) / 1048576.0,
		       json_integer_value(json_object_get(log, "map_bytes")) / 1048576.0);
		printf("unsent to HQ    %lld sales, %lld events\n",
		       (long long)json_integer_value(json_object_get(log, "unsent_sales")),
		       (long long)json_integer_value(json_object_get(log, "unsent_events")));
		json_t *hq = json_object_get(o, "hq");
		if (hq)
			printf("HQ              %s\n", json_string_value(json_object_get(hq, "state")) ?: "unknown");
		json_t *rules = json_object_get(o, "rules");
		if (rules)
			printf("rule set        %s\n", json_string_value(json_object_get(rules, "version")) ?: "none");
		json_decref(o);
		return 0;
	}
	/* No daemon: say so, and still report the log. */
	struct loy_db *db;
	struct loy_stats st;
	printf("daemon          not running (no answer on %s)\n", socket_path);
	if (cli_open_log_ro("status", &cfg, &db))
		return 1;
	loy_stats(db, &st);
	printf("log             %s: %llu sales, %llu cards\n", cfg.data_dir, (unsigned long long)st.sales,
	       (unsigned long long)st.cards);
	printf("unsent to HQ    %llu sales, %llu events\n", (unsigned long long)(st.last_sale_seq - st.sales_acked),
	       (unsigned long long)(st.last_event_seq - st.events_acked));
	uint64_t waiting = 0;
	if (loy_printq_count(db, &waiting, NULL) == PM_OK && waiting)
		printf("receipts        %llu waiting for the printer (posmark receipt --pending)\n",
		       (unsigned long long)waiting);
	loy_close(db);
	return 3;
}
