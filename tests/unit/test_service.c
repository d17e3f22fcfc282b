/*
 * test_service.c - what running as a service needs from common/ and
 * drivers/: the sd_notify datagram (pm_notify) read from a real AF_UNIX
 * datagram socket (path and abstract namespace), journal mode of the log
 * (pm_log: priority prefixes, error and hint on one line, unchanged output
 * outside the journal), which config file is read (pm_conf_pick), the
 * version macro, and the bounded text receipt file (text:,max_kb=,keep=).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/pm_conf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_notify.h"
#include "common/pm_version.h"
#include "drivers/drivers.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A datagram socket bound at name ("@..." = abstract); returns the fd. */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] != '@'))), 0);
	return fd;
}

static void recv_expect(int fd, const char *want)
{
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_notify_path_socket(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), path[512];
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/notify", dir);
	int fd = bind_dgram(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(pm_notify("READY=1\nSTATUS=serving"), PM_OK);
	recv_expect(fd, "READY=1\nSTATUS=serving");
	assert_int_equal(pm_notifyf("STATUS=%d lanes", 3), PM_OK);
	recv_expect(fd, "STATUS=3 lanes");
	close(fd);
	/* nobody listening any more: an error the caller can log, no crash */
	unlink(path);
	assert_int_equal(pm_notify("STOPPING=1"), PM_EIO);
	unsetenv("NOTIFY_SOCKET");
	tu_rmdir(dir);
}

static void test_notify_abstract_socket(void **state)
{
	(void)state;
	char name[108];
	snprintf(name, sizeof(name), "@posmark-test-notify-%ld", (long)getpid());
	int fd = bind_dgram(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(pm_notify("READY=1"), PM_OK);
	recv_expect(fd, "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_notify_unset_or_bad(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(pm_notify("READY=1"), PM_OK);    /* not under systemd: nothing to do */
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(pm_notify("READY=1"), PM_OK);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(pm_notify("READY=1"), PM_EINVAL);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(pm_notify("READY=1"), PM_EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

/* Run fn with stderr going to a file; return what it wrote (free it). */
static char *capture_stderr(const char *dir, int journal, void (*fn)(void))
{
	char path[512], env[64];
	struct stat st;
	snprintf(path, sizeof(path), "%s/stderr", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	assert_int_equal(fstat(2, &st), 0);
	if (journal) {
		snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		setenv("JOURNAL_STREAM", env, 1);
	} else {
		setenv("JOURNAL_STREAM", "1:1", 1);   /* some other stream: not the journal */
	}
	pm_log_detect_journal();
	assert_int_equal(pm_log_journal(), journal);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	pm_log_detect_journal();
	char *out = calloc(1, 4096);
	assert_non_null(out);
	assert_true(pread(fd, out, 4095, 0) >= 0);
	close(fd);
	return out;
}

static int tell(const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = pm_tell_failure("posmark daemon", hint, fmt, ap);
	va_end(ap);
	return rc;
}

static void log_some(void)
{
	int saved = pm_log_level;
	pm_log_level = PM_LOG_DBG;
	pm_err("cannot open '%s'", "x");
	pm_warn("offers disabled");
	pm_info("ready");
	pm_dbg("detail");
	pm_log_level = saved;
	assert_int_equal(tell("set daemon.socket", "cannot listen on '%s'", "/run/x"), 1);
	assert_int_equal(tell(NULL, "no hint here"), 1);
}

static void test_log_journal_prefixes(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *out = capture_stderr(dir, 1, log_some);
	assert_string_equal(out,
		"<3>posmark error: cannot open 'x'\n"
		"<4>posmark warning: offers disabled\n"
		"<6>posmark info: ready\n"
		"<7>posmark debug: log_some: detail\n"
		"<3>posmark daemon: cannot listen on '/run/x' (hint: set daemon.socket)\n"
		"<3>posmark daemon: no hint here\n");
	free(out);
	tu_rmdir(dir);
}

static void test_log_outside_journal_unchanged(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *out = capture_stderr(dir, 0, log_some);
	assert_string_equal(out,
		"posmark error: cannot open 'x'\n"
		"posmark warning: offers disabled\n"
		"posmark info: ready\n"
		"posmark debug: log_some: detail\n"
		"posmark daemon: cannot listen on '/run/x'\n"
		"hint: set daemon.socket\n"
		"posmark daemon: no hint here\n");
	free(out);
	tu_rmdir(dir);
}

static void test_conf_pick(void **state)
{
	(void)state;
	char buf[1024];
	unsetenv("POSMARK_TEST_CONF");
	assert_string_equal(pm_conf_pick("/x.conf", "POSMARK_TEST_CONF", "t.conf", buf, sizeof(buf)), "/x.conf");
	assert_null(pm_conf_pick("", "POSMARK_TEST_CONF", "t.conf", buf, sizeof(buf)));
	setenv("POSMARK_TEST_CONF", "/y.conf", 1);
	assert_string_equal(pm_conf_pick(NULL, "POSMARK_TEST_CONF", "t.conf", buf, sizeof(buf)), "/y.conf");
	assert_string_equal(pm_conf_pick("/x.conf", "POSMARK_TEST_CONF", "t.conf", buf, sizeof(buf)), "/x.conf");
	setenv("POSMARK_TEST_CONF", "none", 1);
	assert_null(pm_conf_pick(NULL, "POSMARK_TEST_CONF", "t.conf", buf, sizeof(buf)));
	setenv("POSMARK_TEST_CONF", "", 1);
	assert_null(pm_conf_pick(NULL, "POSMARK_TEST_CONF", "t.conf", buf, sizeof(buf)));
	unsetenv("POSMARK_TEST_CONF");
	/* the default file does not exist: built-in defaults */
	assert_null(pm_conf_pick(NULL, "POSMARK_TEST_CONF", "no-such-posmark-test.conf", buf, sizeof(buf)));
	assert_string_equal(buf, PM_SYSCONFDIR "/posmark/no-such-posmark-test.conf");
	assert_string_equal(PM_VERSION, "0.12.0");
}

static long fsize(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? -1 : (long)st.st_size;
}

static void test_text_receipts_rotate(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), spec[600], err[300];
	struct prn_doc doc;
	struct prn_dev *p = NULL;
	snprintf(spec, sizeof(spec), "text:%s/receipts.txt,max_kb=1,keep=2", dir);
	assert_int_equal(prn_open(spec, &p, err, sizeof(err)), PM_OK);
	assert_int_equal(prn_doc_init(&doc, 42), PM_OK);
	for (int i = 0; i < 10; i++)
		assert_int_equal(prn_doc_text(&doc, PRN_LEFT, 0, "line %d of a receipt that is long enough", i), PM_OK);
	for (int i = 0; i < 20; i++)
		assert_int_equal(prn_print(p, &doc), PM_OK);
	prn_close(p);
	prn_doc_release(&doc);
	long one = fsize(dir, "receipts.txt");
	assert_true(one > 0 && one <= 1024);
	assert_true(fsize(dir, "receipts.txt.1") > 0 && fsize(dir, "receipts.txt.1") <= 1024);
	assert_true(fsize(dir, "receipts.txt.2") > 0);
	assert_int_equal(fsize(dir, "receipts.txt.3"), -1);   /* keep=2 */
	/* bad options are refused with the reason */
	snprintf(spec, sizeof(spec), "text:%s/r.txt,max_kb=-1", dir);
	assert_int_equal(prn_open(spec, &p, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "max_kb"));
	snprintf(spec, sizeof(spec), "escpos:%s/r.bin,keep=2", dir);
	assert_int_equal(prn_open(spec, &p, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "text: printers only"));
	/* max_kb=0: never rotated */
	snprintf(spec, sizeof(spec), "text:%s/big.txt,max_kb=0", dir);
	assert_int_equal(prn_open(spec, &p, err, sizeof(err)), PM_OK);
	assert_int_equal(prn_doc_init(&doc, 42), PM_OK);
	for (int i = 0; i < 40; i++)
		assert_int_equal(prn_doc_text(&doc, PRN_LEFT, 0, "line %d of a receipt that is long enough", i), PM_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(prn_print(p, &doc), PM_OK);
	prn_close(p);
	prn_doc_release(&doc);
	assert_true(fsize(dir, "big.txt") > 4096);
	assert_int_equal(fsize(dir, "big.txt.1"), -1);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_path_socket),
		cmocka_unit_test(test_notify_abstract_socket),
		cmocka_unit_test(test_notify_unset_or_bad),
		cmocka_unit_test(test_log_journal_prefixes),
		cmocka_unit_test(test_log_outside_journal_unchanged),
		cmocka_unit_test(test_conf_pick),
		cmocka_unit_test(test_text_receipts_rotate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
