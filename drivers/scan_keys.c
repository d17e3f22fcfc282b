/*
 * scan_keys.c - turning what keyboard-style scanners send into scans:
 * HID keyboard usages (boot reports from usb:, key codes from evdev:) to
 * characters with shift/ctrl, HID POS scanner reports to data + AIM id,
 * and the line assembly (terminator CR/LF/Enter) all of them share with
 * serial:. Pure functions over bytes: unit-tested and fuzzed directly.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <ctype.h>
#include <linux/input-event-codes.h>
#include <string.h>

int scani_line_push(struct scani_line *l, char c, struct scan_raw *out)
{
	if (c == '\r' || c == '\n') {
		if (l->overflow) {
			pm_warn("scan longer than %zu bytes dropped; rescan", sizeof(l->buf) - 1);
			l->overflow = false;
			l->n = 0;
			return 0;
		}
		if (l->n == 0)
			return 0;     /* the LF of a CRLF, or an empty scan */
		memcpy(out->data, l->buf, l->n);
		out->data[l->n] = '\0';
		out->len = l->n;
		out->aim[0] = '\0';
		out->is_key = false;
		l->n = 0;
		return 1;
	}
	if (l->n + 1 >= sizeof(l->buf)) {
		l->overflow = true;
		return 0;
	}
	l->buf[l->n++] = c;
	return 0;
}

/* HID keyboard page usages 0x04..0x38: unshifted and shifted (US layout, as scanners send). */
static const char usage_plain[] = "abcdefghijklmnopqrstuvwxyz1234567890\n\x1b\b\t -=[]\\#;'`,./";
static const char usage_shift[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()\n\x1b\b\t _+{}|~:\"~<>?";

int scani_hid_usage_char(unsigned usage, bool shift, bool ctrl)
{
	if (usage == 0x58)                      /* keypad Enter */
		return '\n';
	if (usage >= 0x59 && usage <= 0x62)     /* keypad 1..9, 0 */
		return usage == 0x62 ? '0' : (int)('1' + usage - 0x59);
	if (usage < 0x04 || usage > 0x38)
		return -1;
	char c = (shift ? usage_shift : usage_plain)[usage - 0x04];
	if (ctrl) {
		/* Scanners send GS (FNC1 in GS1 codes) as ctrl+], RS as ctrl+^, EOT as ctrl+d. */
		if (usage == 0x30)
			return 0x1d;
		if (isalpha((unsigned char)c))
			return toupper((unsigned char)c) - '@';
		if (usage == 0x23 && shift)
			return 0x1e;
		return -1;
	}
	if (c == '\x1b' || c == '\b')
		return -1;
	return (unsigned char)c;
}

unsigned scani_evdev_to_usage(unsigned code)
{
	static const struct { unsigned short key, usage; } map[] = {
		{ KEY_A, 0x04 }, { KEY_B, 0x05 }, { KEY_C, 0x06 }, { KEY_D, 0x07 }, { KEY_E, 0x08 },
		{ KEY_F, 0x09 }, { KEY_G, 0x0a }, { KEY_H, 0x0b }, { KEY_I, 0x0c }, { KEY_J, 0x0d },
		{ KEY_K, 0x0e }, { KEY_L, 0x0f }, { KEY_M, 0x10 }, { KEY_N, 0x11 }, { KEY_O, 0x12 },
		{ KEY_P, 0x13 }, { KEY_Q, 0x14 }, { KEY_R, 0x15 }, { KEY_S, 0x16 }, { KEY_T, 0x17 },
		{ KEY_U, 0x18 }, { KEY_V, 0x19 }, { KEY_W, 0x1a }, { KEY_X, 0x1b }, { KEY_Y, 0x1c },
		{ KEY_Z, 0x1d }, { KEY_1, 0x1e }, { KEY_2, 0x1f }, { KEY_3, 0x20 }, { KEY_4, 0x21 },
		{ KEY_5, 0x22 }, { KEY_6, 0x23 }, { KEY_7, 0x24 }, { KEY_8, 0x25 }, { KEY_9, 0x26 },
		{ KEY_0, 0x27 }, { KEY_ENTER, 0x28 }, { KEY_TAB, 0x2b }, { KEY_SPACE, 0x2c },
		{ KEY_MINUS, 0x2d }, { KEY_EQUAL, 0x2e }, { KEY_LEFTBRACE, 0x2f }, { KEY_RIGHTBRACE, 0x30 },
		{ KEY_BACKSLASH, 0x31 }, { KEY_SEMICOLON, 0x33 }, { KEY_APOSTROPHE, 0x34 },
		{ KEY_GRAVE, 0x35 }, { KEY_COMMA, 0x36 }, { KEY_DOT, 0x37 }, { KEY_SLASH, 0x38 },
		{ KEY_KPENTER, 0x58 }, { KEY_KP1, 0x59 }, { KEY_KP2, 0x5a }, { KEY_KP3, 0x5b },
		{ KEY_KP4, 0x5c }, { KEY_KP5, 0x5d }, { KEY_KP6, 0x5e }, { KEY_KP7, 0x5f },
		{ KEY_KP8, 0x60 }, { KEY_KP9, 0x61 }, { KEY_KP0, 0x62 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].key == code)
			return map[i].usage;
	return 0;
}

int scani_kbd_report(struct scani_kbd *k, const unsigned char *rep, size_t len, struct scan_raw *out)
{
	int done = 0;
	if (len < 8)
		return PM_EPROTO;
	/* Phantom state (rollover error): every key slot says 0x01. */
	if (rep[2] == 0x01 && rep[3] == 0x01)
		return PM_EPROTO;
	bool shift = rep[0] & 0x22, ctrl = rep[0] & 0x11;
	for (int i = 2; i < 8; i++) {
		unsigned char u = rep[i];
		if (u < 0x04 || memchr(k->prev, u, sizeof(k->prev)))
			continue;     /* no key, or still held from the last report */
		int c = scani_hid_usage_char(u, shift, ctrl);
		if (c >= 0 && scani_line_push(&k->line, (char)c, out) == 1)
			done = 1;
	}
	memcpy(k->prev, rep + 2, sizeof(k->prev));
	return done;
}

int scani_pos_report(struct scani_pos *ps, const unsigned char *rep, size_t len, struct scan_raw *out)
{
	if (len < SCANI_POS_REPORT_LEN || rep[0] != SCANI_POS_REPORT_ID)
		return PM_EPROTO;
	size_t n = rep[1];
	if (n > 56)
		return PM_EPROTO;
	if (ps->acc.len + n >= sizeof(ps->acc.data)) {
		pm_warn("HID POS scan longer than %zu bytes dropped; rescan", sizeof(ps->acc.data) - 1);
		memset(&ps->acc, 0, sizeof(ps->acc));
		return PM_EPROTO;
	}
	memcpy(ps->acc.data + ps->acc.len, rep + 2, n);
	ps->acc.len += n;
	if (rep[63] & 1)
		return 0;
	if (ps->acc.len == 0)
		return PM_EPROTO;
	*out = ps->acc;
	out->data[out->len] = '\0';
	if (isalpha(rep[59]) && isalnum(rep[60])) {
		out->aim[0] = ']';
		out->aim[1] = (char)rep[59];
		out->aim[2] = (char)rep[60];
		out->aim[3] = '\0';
	}
	memset(&ps->acc, 0, sizeof(ps->acc));
	return 1;
}

bool scani_report_desc_is_pos(const unsigned char *d, size_t len)
{
	/* Walk the short items; Usage Page is tag 0x04 (global), size 1 or 2. */
	for (size_t i = 0; i < len;) {
		unsigned char b = d[i];
		if (b == 0xfe) {                   /* long item */
			if (i + 1 >= len)
				break;
			i += 3 + d[i + 1];
			continue;
		}
		size_t sz = (b & 3) == 3 ? 4 : (b & 3);
		if (i + 1 + sz > len)
			break;
		if ((b & 0xfc) == 0x04) {
			unsigned page = sz >= 1 ? d[i + 1] : 0;
			if (sz >= 2)
				page |= (unsigned)d[i + 2] << 8;
			if (page == 0x8c)
				return true;
		}
		i += 1 + sz;
	}
	return false;
}
