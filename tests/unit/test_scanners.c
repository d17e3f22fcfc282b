/*
 * test_scanners.c - scanner input without USB: the report and key decoders
 * of scan_keys.c, the serial: backend through a real pseudo-terminal pair
 * (openpty: the test writes what a scanner in CDC-ACM/RS-232 mode sends to
 * the master side), and the evdev: backend reading recorded input_event
 * streams through a FIFO (the same read/decode code as /dev/input/eventN;
 * EVIOCGRAB is refused there, which the backend must survive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <linux/input.h>
#include <pty.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_line_assembly(void **state)
{
	(void)state;
	struct scani_line l = { 0 };
	struct scan_raw out;
	const char *in = "123\r\n\n456\n";
	int done = 0;
	for (const char *p = in; *p; p++)
		if (scani_line_push(&l, *p, &out) == 1) {
			done++;
			assert_string_equal(out.data, done == 1 ? "123" : "456");
		}
	assert_int_equal(done, 2);
	/* Too long: dropped at its terminator, the next one is fine. */
	for (int i = 0; i < 700; i++)
		assert_int_equal(scani_line_push(&l, 'x', &out), 0);
	assert_int_equal(scani_line_push(&l, '\n', &out), 0);
	scani_line_push(&l, '7', &out);
	assert_int_equal(scani_line_push(&l, '\r', &out), 1);
	assert_string_equal(out.data, "7");
}

static void test_usage_chars(void **state)
{
	(void)state;
	assert_int_equal(scani_hid_usage_char(0x04, false, false), 'a');
	assert_int_equal(scani_hid_usage_char(0x04, true, false), 'A');
	assert_int_equal(scani_hid_usage_char(0x1e, false, false), '1');
	assert_int_equal(scani_hid_usage_char(0x1e, true, false), '!');
	assert_int_equal(scani_hid_usage_char(0x27, false, false), '0');
	assert_int_equal(scani_hid_usage_char(0x28, false, false), '\n');
	assert_int_equal(scani_hid_usage_char(0x58, false, false), '\n');
	assert_int_equal(scani_hid_usage_char(0x62, false, false), '0');
	assert_int_equal(scani_hid_usage_char(0x2d, true, false), '_');
	assert_int_equal(scani_hid_usage_char(0x30, false, true), 0x1d);
	assert_int_equal(scani_hid_usage_char(0x07, false, true), 0x04);
	assert_int_equal(scani_hid_usage_char(0x29, false, false), -1);   /* Esc */
	assert_int_equal(scani_hid_usage_char(0x3a, false, false), -1);   /* F1 */
	assert_int_equal(scani_hid_usage_char(0x00, false, false), -1);
	assert_int_equal(scani_evdev_to_usage(KEY_A), 0x04);
	assert_int_equal(scani_evdev_to_usage(KEY_0), 0x27);
	assert_int_equal(scani_evdev_to_usage(KEY_ENTER), 0x28);
	assert_int_equal(scani_evdev_to_usage(KEY_F1), 0);
}

static void test_boot_reports(void **state)
{
	(void)state;
	struct scani_kbd k = { 0 };
	struct scan_raw out;
	const unsigned char a_down[8] = { 0x02, 0, 0x04 }, up[8] = { 0 };
	const unsigned char held_b[8] = { 0, 0, 0x04, 0x05 };     /* a still held, b pressed */
	const unsigned char enter[8] = { 0, 0, 0x28 };
	assert_int_equal(scani_kbd_report(&k, a_down, 8, &out), 0);
	assert_int_equal(scani_kbd_report(&k, held_b, 8, &out), 0);  /* only b is new */
	assert_int_equal(scani_kbd_report(&k, up, 8, &out), 0);
	assert_int_equal(scani_kbd_report(&k, a_down, 4, &out), PM_EPROTO);
	assert_int_equal(scani_kbd_report(&k, enter, 8, &out), 1);
	assert_string_equal(out.data, "Ab");
	/* The same key twice needs a release in between (scanners send one). */
	assert_int_equal(scani_kbd_report(&k, up, 8, &out), 0);
	assert_int_equal(scani_kbd_report(&k, a_down, 8, &out), 0);
	assert_int_equal(scani_kbd_report(&k, a_down, 8, &out), 0);
	assert_int_equal(scani_kbd_report(&k, up, 8, &out), 0);
	assert_int_equal(scani_kbd_report(&k, enter, 8, &out), 1);
	assert_string_equal(out.data, "A");
}

static void test_pos_reports_and_descriptor(void **state)
{
	(void)state;
	struct scani_pos ps = { 0 };
	struct scan_raw out;
	unsigned char rep[64] = { 2, 3, '1', '2', '3' };
	rep[59] = 'C';
	rep[60] = '0';
	assert_int_equal(scani_pos_report(&ps, rep, 63, &out), PM_EPROTO);   /* short */
	assert_int_equal(scani_pos_report(&ps, rep, 64, &out), 1);
	assert_string_equal(out.data, "123");
	assert_string_equal(out.aim, "]C0");
	rep[59] = 0;                       /* no symbology id */
	assert_int_equal(scani_pos_report(&ps, rep, 64, &out), 1);
	assert_string_equal(out.aim, "");
	rep[1] = 57;
	assert_int_equal(scani_pos_report(&ps, rep, 64, &out), PM_EPROTO);
	rep[1] = 0;
	assert_int_equal(scani_pos_report(&ps, rep, 64, &out), PM_EPROTO);   /* empty scan */
	/* Continuations past 511 bytes: dropped, then the state is clean. */
	rep[1] = 56;
	rep[63] = 1;
	int rc = 0;
	for (int i = 0; i < 12 && rc != PM_EPROTO; i++)
		rc = scani_pos_report(&ps, rep, 64, &out);
	assert_int_equal(rc, PM_EPROTO);
	rep[1] = 2;
	rep[63] = 0;
	assert_int_equal(scani_pos_report(&ps, rep, 64, &out), 1);
	assert_string_equal(out.data, "12");
	const unsigned char pos_desc[] = { 0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, 0xc0 };
	const unsigned char pos_desc16[] = { 0x06, 0x8c, 0x00, 0x09, 0x02 };
	const unsigned char kbd_desc[] = { 0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0xc0 };
	const unsigned char trunc[] = { 0x06, 0x8c };
	assert_true(scani_report_desc_is_pos(pos_desc, sizeof(pos_desc)));
	assert_true(scani_report_desc_is_pos(pos_desc16, sizeof(pos_desc16)));
	assert_false(scani_report_desc_is_pos(kbd_desc, sizeof(kbd_desc)));
	assert_false(scani_report_desc_is_pos(trunc, sizeof(trunc)));
}

static void test_serial_pty(void **state)
{
	(void)state;
	int master, slave;
	char name[256], spec[300], err[256];
	struct scan_dev *s;
	struct scan_raw raw;
	assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
	snprintf(spec, sizeof(spec), "serial:%s,115200", name);
	assert_int_equal(scan_open(spec, NULL, &s, err, sizeof(err)), PM_OK);
	close(slave);
	assert_true(scan_fd(s) >= 0);
	assert_int_equal(write(master, "4006381333931\r\n", 15), 15);
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "4006381333931");
	/* timeout 0 (the daemon's poll loop): what is there is read, nothing waits. */
	assert_int_equal(scan_read(s, &raw, 0), PM_ETIMEOUT);
	assert_int_equal(write(master, "21123450\r", 9), 9);
	usleep(20000);
	assert_int_equal(scan_read(s, &raw, 0), PM_OK);
	assert_string_equal(raw.data, "21123450");
	/* Two scans in one burst; then half a scan, a timeout, the other half. */
	assert_int_equal(write(master, "96385074\r036000291452\r9638", 26), 26);
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "96385074");
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "036000291452");
	assert_int_equal(scan_read(s, &raw, 200), PM_ETIMEOUT);
	assert_int_equal(write(master, "5074\n", 5), 5);
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "96385074");
	/* Raw mode: no echo came back to the "scanner". */
	char echo[16];
	int fl = fcntl(master, F_GETFL);
	fcntl(master, F_SETFL, fl | O_NONBLOCK);
	assert_true(read(master, echo, sizeof(echo)) < 0);
	/* Unplugged (the master side goes away): PM_ENODEV, then timeouts, no hang. */
	close(master);
	assert_int_equal(scan_read(s, &raw, 500), PM_ENODEV);
	assert_int_equal(scan_read(s, &raw, 200), PM_ETIMEOUT);
	scan_close(s);
	assert_int_equal(scan_open("serial:/dev/ttyNONE,9600", NULL, &s, err, sizeof(err)), PM_ENOENT);
	assert_int_equal(scan_open("serial:/dev/ttyS0,12345", NULL, &s, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "baud"));
}

static void put_key(int fd, unsigned code, int value)
{
	struct input_event ev[2];
	memset(ev, 0, sizeof(ev));
	ev[0].type = EV_KEY;
	ev[0].code = (unsigned short)code;
	ev[0].value = value;
	ev[1].type = EV_SYN;
	ev[1].code = SYN_REPORT;
	assert_int_equal(write(fd, ev, sizeof(ev)), sizeof(ev));
}

static void tap(int fd, unsigned code)
{
	put_key(fd, code, 1);
	put_key(fd, code, 0);
}

static void test_evdev_stream(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), path[4200], spec[4300], err[256];
	struct scan_dev *s;
	struct scan_raw raw;
	snprintf(path, sizeof(path), "%s/event0", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	int wfd = open(path, O_RDWR);      /* keeps the FIFO open for the reader */
	assert_true(wfd >= 0);
	snprintf(spec, sizeof(spec), "evdev:%s", path);
	int old = pm_log_level;
	pm_log_level = PM_LOG_ERR;         /* the refused grab is expected here */
	assert_int_equal(scan_open(spec, NULL, &s, err, sizeof(err)), PM_OK);
	pm_log_level = old;
	/* "PM-X1" then Enter: shift held for P, M, X; autorepeat ignored. */
	put_key(wfd, KEY_LEFTSHIFT, 1);
	tap(wfd, KEY_P);
	tap(wfd, KEY_M);
	put_key(wfd, KEY_LEFTSHIFT, 0);
	tap(wfd, KEY_MINUS);
	put_key(wfd, KEY_RIGHTSHIFT, 1);
	put_key(wfd, KEY_X, 1);
	put_key(wfd, KEY_X, 2);            /* autorepeat */
	put_key(wfd, KEY_X, 0);
	put_key(wfd, KEY_RIGHTSHIFT, 0);
	tap(wfd, KEY_1);
	tap(wfd, KEY_ENTER);
	/* A second scan in the same burst, with GS as ctrl+]. */
	tap(wfd, KEY_0);
	tap(wfd, KEY_1);
	put_key(wfd, KEY_LEFTCTRL, 1);
	tap(wfd, KEY_RIGHTBRACE);
	put_key(wfd, KEY_LEFTCTRL, 0);
	tap(wfd, KEY_KP9);
	tap(wfd, KEY_KPENTER);
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "PM-X1");
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "01\x1d" "9");
	assert_int_equal(scan_read(s, &raw, 200), PM_ETIMEOUT);
	scan_close(s);
	close(wfd);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_assembly),
		cmocka_unit_test(test_usage_chars),
		cmocka_unit_test(test_boot_reports),
		cmocka_unit_test(test_pos_reports_and_descriptor),
		cmocka_unit_test(test_serial_pty),
		cmocka_unit_test(test_evdev_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
