/*
 * test_umock_scanner.c - the usb:VID:PID scanner backend's real libusb path
 * against emulated scanners (umockdev, umock_usb.h):
 *  - a HID boot-keyboard scanner modelled on a Symbol/Zebra LS2208 in
 *    keyboard mode (05e0:1200): interface class 3/1/1, interrupt IN 0x81,
 *    8-byte boot reports (modifiers, 0, six key usages), Enter terminator;
 *  - a HID POS scanner (0c2e:0b61, Honeywell's vendor id; interface class 3
 *    with a report descriptor on usage page 0x8C): 64-byte input reports
 *    2 carrying data and the AIM id (the layout in drivers/drv_backend.h).
 * Also: a half report, a rollover report, a read timeout (libusb's discard
 * path), and a scanner unplugged mid-read and plugged back in (hotplug).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>

#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_time.h"
#include "tests/unit/testutil.h"
#include "tests/unit/umock_usb.h"

#define KBD_SYS "/devices/pci0000:00/0000:00:14.0/usb1/1-3"
#define POS_SYS "/devices/pci0000:00/0000:00:14.0/usb1/1-4"

static const char kbd_desc[] =
	"P: " KBD_SYS "\n"
	"N: bus/usb/001/003\n"
	"E: DEVNAME=/dev/bus/usb/001/003\n"
	"E: DEVTYPE=usb_device\n"
	"E: SUBSYSTEM=usb\n"
	"E: BUSNUM=001\n"
	"E: DEVNUM=003\n"
	"E: PRODUCT=5e0/1200/100\n"
	"A: busnum=1\\n\n"
	"A: devnum=3\\n\n"
	"A: dev=189:2\\n\n"
	"A: speed=12\\n\n"
	"A: bConfigurationValue=1\\n\n"
	"A: idVendor=05e0\\n\n"
	"A: idProduct=1200\\n\n"
	"H: descriptors=1201000200000008e005001200010102030109022200010100a032"
	"090400000103010100092111010001223f000705810308000a\n";

static const char pos_desc[] =
	"P: " POS_SYS "\n"
	"N: bus/usb/001/004\n"
	"E: DEVNAME=/dev/bus/usb/001/004\n"
	"E: DEVTYPE=usb_device\n"
	"E: SUBSYSTEM=usb\n"
	"E: BUSNUM=001\n"
	"E: DEVNUM=004\n"
	"E: PRODUCT=c2e/b61/100\n"
	"A: busnum=1\\n\n"
	"A: devnum=4\\n\n"
	"A: dev=189:3\\n\n"
	"A: speed=12\\n\n"
	"A: bConfigurationValue=1\\n\n"
	"A: idVendor=0c2e\\n\n"
	"A: idProduct=0b61\\n\n"
	"H: descriptors=12010002000000402e0c610b00010102030109022200010100a032"
	"09040000010300000009211101000122160007058103400001\n";

/* Standard boot keyboard report descriptor. */
static const unsigned char kbd_report_desc[] = {
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
	0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x06, 0x75, 0x08,
	0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
};
/* Bar code scanner page: one 63-byte input report, id 2. */
static const unsigned char pos_report_desc[] = {
	0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, 0x85, 0x02, 0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08,
	0x95, 0x3f, 0x09, 0xfe, 0x82, 0x02, 0x01, 0xc0,
};

#define MAXREP 256
struct scanner_state {
	const unsigned char *report_desc;
	size_t report_desc_len;
	unsigned char reports[MAXREP][64];
	int lens[MAXREP];
	int head, tail;
	int control_requests;
};

static int sc_control(struct emu_usb *e, const unsigned char *setup, unsigned char *data, int len)
{
	struct scanner_state *s = e->user;
	s->control_requests++;
	if (setup[0] == 0x81 && setup[1] == 0x06 && setup[3] == 0x22) {   /* report descriptor */
		int n = (int)s->report_desc_len < len ? (int)s->report_desc_len : len;
		memcpy(data, s->report_desc, (size_t)n);
		return n;
	}
	if (setup[0] == 0x21 && (setup[1] == 0x0a || setup[1] == 0x0b))   /* SET_IDLE, SET_PROTOCOL */
		return 0;
	return -EPIPE;
}

static int sc_data_in(struct emu_usb *e, unsigned char ep, unsigned char *buf, int cap)
{
	struct scanner_state *s = e->user;
	if (ep != 0x81 || s->head == s->tail)
		return 0;
	int n = s->lens[s->head] < cap ? s->lens[s->head] : cap;
	memcpy(buf, s->reports[s->head], (size_t)n);
	s->head = (s->head + 1) % MAXREP;
	return n;
}

static const struct emu_usb_ops scanner_ops = { .control = sc_control, .data_in = sc_data_in };

static void queue_report(struct emu_usb *e, const unsigned char *rep, int len)
{
	struct scanner_state *s = e->user;
	pthread_mutex_lock(&e->mu);
	memcpy(s->reports[s->tail], rep, (size_t)len);
	s->lens[s->tail] = len;
	s->tail = (s->tail + 1) % MAXREP;
	pthread_mutex_unlock(&e->mu);
}

/* What a keyboard-wedge scanner sends for one character: key down, all up. */
static void type_char(struct emu_usb *e, char c)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz1234567890\n";
	static const char shifted[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()";
	unsigned char rep[8] = { 0 };
	const char *p;
	if (c == 0x1d) {                    /* GS as ctrl+] */
		rep[0] = 0x01;
		rep[2] = 0x30;
	} else if (c == '-') {
		rep[2] = 0x2d;
	} else if (c == ';' || c == '=' || c == '?') {
		rep[2] = c == ';' ? 0x33 : c == '=' ? 0x2e : 0x38;
		rep[0] = c == '?' ? 0x02 : 0;
	} else if ((p = strchr(plain, c))) {
		rep[2] = (unsigned char)(0x04 + (p - plain));
	} else if ((p = strchr(shifted, c))) {
		rep[0] = 0x20;                  /* right shift */
		rep[2] = (unsigned char)(0x04 + (p - shifted));
	}
	queue_report(e, rep, 8);
	memset(rep, 0, sizeof(rep));
	queue_report(e, rep, 8);
}

static void type_string(struct emu_usb *e, const char *s)
{
	for (; *s; s++)
		type_char(e, *s);
}

struct fixture {
	UMockdevTestbed *tb;
	struct emu_usb kbd, pos;
	struct scanner_state kst, pst;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tb = umockdev_testbed_new();
	if (!umockdev_in_mock_environment()) {
		fprintf(stderr, "not under umockdev-wrapper\n");
		return -1;
	}
	f->kst.report_desc = kbd_report_desc;
	f->kst.report_desc_len = sizeof(kbd_report_desc);
	f->pst.report_desc = pos_report_desc;
	f->pst.report_desc_len = sizeof(pos_report_desc);
	if (!emu_usb_init(&f->kbd, f->tb, &scanner_ops, kbd_desc, "/dev/bus/usb/001/003", KBD_SYS) ||
	    !emu_usb_init(&f->pos, f->tb, &scanner_ops, pos_desc, "/dev/bus/usb/001/004", POS_SYS))
		return -1;
	f->kbd.user = &f->kst;
	f->pos.user = &f->pst;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	emu_usb_release(&f->kbd);
	emu_usb_release(&f->pos);
	g_object_unref(f->tb);
	free(f);
	return 0;
}

static struct scan_dev *open_scanner(const char *spec)
{
	struct scan_dev *s;
	char err[256];
	int rc = scan_open(spec, NULL, &s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	assert_int_equal(rc, PM_OK);
	return s;
}

static void test_keyboard_scanner(void **state)
{
	struct fixture *f = *state;
	struct scan_raw raw;
	struct scan_dev *s = open_scanner("usb:05e0:1200");
	type_string(&f->kbd, "4006381333931\n");
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "4006381333931");
	assert_string_equal(raw.aim, "");
	/* Shifted letters, a magstripe track, GS via ctrl+]. */
	type_string(&f->kbd, "PM-AB12\n;6036000000000013=2512?\n");
	type_char(&f->kbd, '0');
	type_char(&f->kbd, '1');
	type_string(&f->kbd, "09501101530003");
	type_char(&f->kbd, 0x1d);
	type_string(&f->kbd, "10ab\n");
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "PM-AB12");
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, ";6036000000000013=2512?");
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "0109501101530003\x1d" "10ab");
	/* A half report and a rollover report are ignored, the scan survives them. */
	unsigned char half[4] = { 0, 0, 0x1e, 0 };
	unsigned char rollover[8] = { 0, 0, 1, 1, 1, 1, 1, 1 };
	type_string(&f->kbd, "96");
	queue_report(&f->kbd, half, 4);
	queue_report(&f->kbd, rollover, 8);
	type_string(&f->kbd, "385074\n");
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "96385074");
	/* Nothing scanned: a timeout after ~200 ms, no hang. */
	int64_t t0 = pm_now_us();
	assert_int_equal(scan_read(s, &raw, 200), PM_ETIMEOUT);
	int64_t ms = (pm_now_us() - t0) / 1000;
	assert_true(ms >= 150 && ms < 1500);
	scan_close(s);
}

/* The daemon's way: wait on scan_fd(), then read with timeout 0, many times over. */
static void test_keyboard_scanner_event_loop(void **state)
{
	struct fixture *f = *state;
	struct scan_raw raw;
	struct scan_dev *s = open_scanner("usb:05e0:1200");
	int fd = scan_fd(s);
	assert_true(fd >= 0);
	const char *want[3] = { "4006381333931", "0109501101530003", "96385074" };
	for (int k = 0; k < 3; k++) {
		char line[64];
		snprintf(line, sizeof(line), "%s\n", want[k]);
		type_string(&f->kbd, line);
		int rc = PM_ETIMEOUT, turns = 0;
		int64_t t0 = pm_now_us();
		while (rc == PM_ETIMEOUT && pm_now_us() - t0 < 3000000) {
			struct pollfd pfd = { fd, POLLIN | POLLOUT, 0 };
			assert_true(poll(&pfd, 1, 50) >= 0);
			rc = scan_read(s, &raw, 0);
			turns++;
		}
		assert_int_equal(rc, PM_OK);
		assert_string_equal(raw.data, want[k]);
		assert_true(turns >= 1);
	}
	/* Nothing more: a zero-timeout read returns at once. */
	int64_t t0 = pm_now_us();
	assert_int_equal(scan_read(s, &raw, 0), PM_ETIMEOUT);
	assert_true(pm_now_us() - t0 < 500000);
	scan_close(s);
}

static void test_keyboard_scanner_hotplug(void **state)
{
	struct fixture *f = *state;
	struct scan_raw raw;
	struct scan_dev *s = open_scanner("usb:05e0:1200");
	type_string(&f->kbd, "40063");     /* half a scan, then the cable is pulled */
	emu_usb_vanish(&f->kbd);
	assert_int_equal(scan_read(s, &raw, 1000), PM_ENODEV);
	emu_usb_unplug_finish(&f->kbd);
	/* Still unplugged: a plain timeout, the till goes on. */
	assert_int_equal(scan_read(s, &raw, 200), PM_ETIMEOUT);
	/* Plugged back in: picked up again, the half scan is gone, the next scan reads. */
	pthread_mutex_lock(&f->kbd.mu);
	f->kst.head = f->kst.tail = 0;
	pthread_mutex_unlock(&f->kbd.mu);
	assert_true(emu_usb_plug(&f->kbd));
	type_string(&f->kbd, "036000291452\n");
	assert_int_equal(scan_read(s, &raw, 2000), PM_OK);
	assert_string_equal(raw.data, "036000291452");
	scan_close(s);
}

static void pos_report(struct emu_usb *e, const char *data, size_t n, const char *aim, bool more)
{
	unsigned char rep[64] = { 2 };
	rep[1] = (unsigned char)n;
	memcpy(rep + 2, data, n);
	rep[58] = 'd';                      /* vendor code id */
	rep[59] = (unsigned char)aim[0];
	rep[60] = (unsigned char)aim[1];
	rep[63] = more;
	queue_report(e, rep, 64);
}

static void test_hid_pos_scanner(void **state)
{
	struct fixture *f = *state;
	struct scan_raw raw;
	struct scan_dev *s = open_scanner("usb:0c2e:0b61");
	pos_report(&f->pos, "4006381333931", 13, "E0", false);
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "4006381333931");
	assert_string_equal(raw.aim, "]E0");
	/* A GS1-128 scan longer than one report: two reports, continuation flag. */
	const char *gs1 = "0109501101530003172512311" "0BATCH-0123456789\x1d" "3103001250" "3922" "1299\x1d"
			  "8110106141416543213500110000310123196000";
	size_t n = strlen(gs1);
	pos_report(&f->pos, gs1, 56, "C1", true);
	pos_report(&f->pos, gs1 + 56, n - 56, "C1", false);
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_int_equal(raw.len, n);
	assert_memory_equal(raw.data, gs1, n);
	assert_string_equal(raw.aim, "]C1");
	struct scan_config cfg;
	struct scan_result r;
	scan_config_default(&cfg);
	scan_decode(&cfg, raw.data, raw.len, raw.aim, &r);
	assert_int_equal(r.kind, SCAN_COUPON);
	/* A bad report (wrong id, length beyond the data) is skipped. */
	unsigned char bad[64] = { 7, 13 };
	queue_report(&f->pos, bad, 64);
	unsigned char bad2[64] = { 2, 200 };
	queue_report(&f->pos, bad2, 64);
	pos_report(&f->pos, "96385074", 8, "E4", false);
	assert_int_equal(scan_read(s, &raw, 1000), PM_OK);
	assert_string_equal(raw.data, "96385074");
	assert_string_equal(raw.aim, "]E4");
	scan_close(s);
}

static void test_open_errors(void **state)
{
	(void)state;
	struct scan_dev *s;
	char err[256];
	assert_int_equal(scan_open("usb:dead:beef", NULL, &s, err, sizeof(err)), PM_ENODEV);
	assert_non_null(strstr(err, "plugged"));
	assert_int_equal(scan_open("usb:nothex", NULL, &s, err, sizeof(err)), PM_EINVAL);
	/* The printer-class device of another test is not a scanner; neither is a missing one. */
	assert_int_equal(scan_open("bogus:x", NULL, &s, err, sizeof(err)), PM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keyboard_scanner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard_scanner_event_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard_scanner_hotplug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hid_pos_scanner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
