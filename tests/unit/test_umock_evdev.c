/*
 * test_umock_evdev.c - the evdev: scanner backend against an emulated
 * /dev/input/eventN (umockdev's evemu support replays an event recording
 * through the device node). The device is the input node the kernel's
 * usbhid makes for a keyboard-wedge scanner (05e0:1200, as in
 * test_umock_scanner.c). The recording types a GTIN, then a shifted coupon
 * code and a GS1 string with GS as ctrl+], each ended by Enter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <linux/input-event-codes.h>
#include <umockdev.h>

static const char input_desc[] =
	"P: /devices/pci0000:00/0000:00:14.0/usb1/1-6/1-6:1.0/0003:05E0:1200.0001/input/input9/event9\n"
	"N: input/event9\n"
	"E: DEVNAME=/dev/input/event9\n"
	"E: SUBSYSTEM=input\n"
	"E: ID_INPUT=1\n"
	"E: ID_INPUT_KEYBOARD=1\n"
	"A: dev=13:73\\n\n";

struct rec {
	FILE *f;
	int us;
};

static void ev(struct rec *r, unsigned type, unsigned code, int value)
{
	fprintf(r->f, "E: 0.%06d %04x %04x %04d\n", r->us, type, code, value);
}

static void key(struct rec *r, unsigned code, int value)
{
	ev(r, EV_KEY, code, value);
	ev(r, EV_SYN, SYN_REPORT, 0);
	r->us += 100;
}

static void tap(struct rec *r, unsigned code)
{
	key(r, code, 1);
	key(r, code, 0);
}

static void test_evemu_scanner(void **state)
{
	(void)state;
	static const unsigned digits[] = { KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7,
					   KEY_8, KEY_9 };
	UMockdevTestbed *tb = umockdev_testbed_new();
	GError *err = NULL;
	char *dir = tu_mkdtemp(), path[4200], e[256];
	assert_true(umockdev_in_mock_environment());
	assert_true(umockdev_testbed_add_from_string(tb, input_desc, &err));
	snprintf(path, sizeof(path), "%s/scans.evemu", dir);
	struct rec r = { .f = fopen(path, "w") };
	for (const char *p = "4006381333931"; *p; p++)
		tap(&r, digits[*p - '0']);
	tap(&r, KEY_ENTER);
	key(&r, KEY_LEFTSHIFT, 1);
	tap(&r, KEY_P);
	tap(&r, KEY_M);
	key(&r, KEY_LEFTSHIFT, 0);
	tap(&r, KEY_MINUS);
	tap(&r, KEY_Q);
	tap(&r, KEY_7);
	tap(&r, KEY_KPENTER);
	for (const char *p = "0109501101530003"; *p; p++)
		tap(&r, digits[*p - '0']);
	key(&r, KEY_RIGHTCTRL, 1);
	tap(&r, KEY_RIGHTBRACE);
	key(&r, KEY_RIGHTCTRL, 0);
	tap(&r, KEY_1);
	tap(&r, KEY_0);
	tap(&r, KEY_A);
	tap(&r, KEY_ENTER);
	fclose(r.f);
	assert_true(umockdev_testbed_load_evemu_events(tb, "/dev/input/event9", path, &err));

	struct scan_dev *s;
	struct scan_raw raw;
	assert_int_equal(scan_open("evdev:/dev/input/event9", NULL, &s, e, sizeof(e)), PM_OK);
	assert_int_equal(scan_read(s, &raw, 2000), PM_OK);
	assert_string_equal(raw.data, "4006381333931");
	assert_false(raw.is_key);
	assert_int_equal(scan_read(s, &raw, 2000), PM_OK);
	assert_string_equal(raw.data, "PM-q7");
	assert_int_equal(scan_read(s, &raw, 2000), PM_OK);
	assert_string_equal(raw.data, "0109501101530003\x1d" "10a");
	struct scan_config cfg;
	struct scan_result res;
	scan_config_default(&cfg);
	scan_decode(&cfg, raw.data, raw.len, NULL, &res);
	assert_int_equal(res.kind, SCAN_ITEM);
	assert_string_equal(res.batch, "a");
	assert_int_equal(scan_read(s, &raw, 200), PM_ETIMEOUT);
	scan_close(s);
	g_object_unref(tb);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evemu_scanner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
