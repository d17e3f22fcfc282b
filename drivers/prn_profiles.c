/*
 * prn_profiles.c - what posmark needs to know about a receipt printer model
 * (the idea of escpos-printer-db, cut down to the fields the encoder uses).
 * docs/printers.md lists the table and how to add a model. Values are from
 * the vendors' programming manuals; the generic profile is the safe
 * default: 80 mm, CP858 (ESC t 19), native 1D barcodes, QR as a raster.
 * More models come from a capabilities file (docs/printers.md, "Printer
 * capabilities file"): $POSMARK_PRINTERS, else PM_SYSCONFDIR/posmark/
 * printers.conf if it exists, read once at the first lookup; a model there
 * with a built-in name replaces the built-in one.
 */
#include "drivers/drv_backend.h"
#include "common/pm_conf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct prn_profile profiles[] = {
	{ .name = "generic", .model = "any 80 mm ESC/POS printer (safe defaults)",
	  .dots = 576, .cols_font_a = 48, .cols_font_b = 64, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = false, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "generic-58", .model = "any 58 mm ESC/POS printer (no cutter)",
	  .dots = 384, .cols_font_a = 32, .cols_font_b = 42, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = false, .cutter = false,
	  .drawer = false, .rt_status = true },
	{ .name = "raster", .model = "80 mm printer without native barcodes (all symbols as images)",
	  .dots = 576, .cols_font_a = 48, .cols_font_b = 64, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = false, .native_qr = false, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "epson-tm-t88v", .model = "Epson TM-T88V (80 mm, 42-column mode)",
	  .dots = 512, .cols_font_a = 42, .cols_font_b = 56, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = true, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "epson-tm-t20ii", .model = "Epson TM-T20II (80 mm)",
	  .dots = 576, .cols_font_a = 48, .cols_font_b = 64, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = true, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "bixolon-srp-350iii", .model = "Bixolon SRP-350III (80 mm)",
	  .dots = 512, .cols_font_a = 42, .cols_font_b = 56, .codepage = PRN_CP1252,
	  .codepage_select = 16, .native_barcode = true, .native_qr = true, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "pos-5890", .model = "POS-5890 family (58 mm, no cutter, no native QR)",
	  .dots = 384, .cols_font_a = 32, .cols_font_b = 42, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = false, .cutter = false,
	  .drawer = false, .rt_status = false },
};

#define MAX_LOADED 64

struct loaded {
	struct prn_profile p;
	char name[32], model[96];
};

static struct loaded *loaded;          /* the capabilities file's models */
static size_t n_loaded;
static pthread_mutex_t loaded_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t auto_once = PTHREAD_ONCE_INIT;

struct load_ctx {
	struct loaded *v;
	size_t n;
	struct loaded *cur;        /* the section being read */
};

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static int yes_no(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return PM_EINVAL;
	return PM_OK;
}

static int int_in(const char *v, long lo, long hi, int *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (!*v || *end || x < lo || x > hi)
		return PM_EINVAL;
	*out = (int)x;
	return PM_OK;
}

/* One "key = value" of a [profile NAME] section. */
static int set_key(struct loaded *l, const char *key, const char *v, char *msg, size_t msglen)
{
	struct prn_profile *p = &l->p;
	int rc = PM_EINVAL;
	const char *want = "";
	if (!strcmp(key, "model")) {
		snprintf(l->model, sizeof(l->model), "%s", v);
		rc = PM_OK;
	} else if (!strcmp(key, "dots")) {
		want = "the printable dots per line, 128..1024 and a multiple of 8 (576 for 80 mm, 384 for 58 mm)";
		rc = int_in(v, 128, 1024, &p->dots);
		if (rc == PM_OK && p->dots % 8)
			rc = PM_EINVAL;
	} else if (!strcmp(key, "columns_font_a") || !strcmp(key, "columns_font_b")) {
		want = "characters per line, 16..128";
		rc = int_in(v, 16, 128, key[13] == 'a' ? &p->cols_font_a : &p->cols_font_b);
	} else if (!strcmp(key, "codepage")) {
		want = "cp858 or cp1252";
		if (!strcmp(v, "cp858"))
			p->codepage = PRN_CP858, p->codepage_select = 19, rc = PM_OK;
		else if (!strcmp(v, "cp1252"))
			p->codepage = PRN_CP1252, p->codepage_select = 16, rc = PM_OK;
	} else if (!strcmp(key, "codepage_select")) {
		want = "the n of ESC t n selecting the code page on this model, 0..255";
		rc = int_in(v, 0, 255, &p->codepage_select);
	} else {
		static const char *const flags[] = { "native_barcode", "native_qr", "cutter", "drawer",
						     "realtime_status" };
		bool *dst[] = { &p->native_barcode, &p->native_qr, &p->cutter, &p->drawer, &p->rt_status };
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (!strcmp(key, flags[i])) {
				want = "yes or no";
				rc = yes_no(v, dst[i]);
			}
		if (!want[0]) {
			snprintf(msg, msglen, "unknown key '%s'; the keys are model, dots, columns_font_a, "
				 "columns_font_b, codepage, codepage_select, native_barcode, native_qr, cutter, "
				 "drawer, realtime_status", key);
			return PM_EINVAL;
		}
	}
	if (rc)
		snprintf(msg, msglen, "%s = '%s': expected %s", key, v, want);
	return rc;
}

static int load_cb(void *vctx, const char *section, const char *key, const char *value, char *msg, size_t msglen)
{
	struct load_ctx *c = vctx;
	if (strncmp(section, "profile ", 8)) {
		snprintf(msg, msglen, "section [%s] is not a printer; write [profile NAME]", section);
		return PM_EINVAL;
	}
	const char *name = section + 8;
	if (!c->cur || strcmp(c->cur->name, name)) {
		if (!name_ok(name)) {
			snprintf(msg, msglen, "profile name '%s': use 1..31 of a-z, 0-9 and '-'", name);
			return PM_EINVAL;
		}
		for (size_t i = 0; i < c->n; i++)
			if (!strcmp(c->v[i].name, name)) {
				snprintf(msg, msglen, "profile '%s' is defined twice", name);
				return PM_EINVAL;
			}
		if (c->n >= MAX_LOADED) {
			snprintf(msg, msglen, "more than %d profiles", MAX_LOADED);
			return PM_EINVAL;
		}
		c->cur = &c->v[c->n++];
		c->cur->p = profiles[0];    /* unset keys: the generic default's */
		snprintf(c->cur->name, sizeof(c->cur->name), "%s", name);
		snprintf(c->cur->model, sizeof(c->cur->model), "%s (capabilities file)", name);
	}
	return set_key(c->cur, key, value, msg, msglen);
}

int prn_profiles_load(const char *path, char *err, size_t errlen)
{
	struct load_ctx c = { .v = calloc(MAX_LOADED, sizeof(struct loaded)) };
	if (!c.v)
		return PM_ENOMEM;
	int rc = path ? pm_conf_read(path, load_cb, &c, err, errlen) : PM_OK;
	for (size_t i = 0; rc == PM_OK && i < c.n; i++)
		if (c.v[i].p.cols_font_b < c.v[i].p.cols_font_a) {
			snprintf(err, errlen, "%s: profile '%s': columns_font_b (%d) is less than columns_font_a "
				 "(%d); font B is the narrower font", path, c.v[i].name, c.v[i].p.cols_font_b,
				 c.v[i].p.cols_font_a);
			rc = PM_EINVAL;
		}
	if (rc) {
		free(c.v);
		return rc;
	}
	for (size_t i = 0; i < c.n; i++) {
		c.v[i].p.name = c.v[i].name;
		c.v[i].p.model = c.v[i].model;
	}
	static struct loaded *retired[8];   /* earlier tables: profile pointers handed out stay valid */
	static size_t n_retired;
	pthread_mutex_lock(&loaded_mu);
	if (loaded) {
		if (n_retired == sizeof(retired) / sizeof(retired[0])) {
			free(retired[0]);
			memmove(retired, retired + 1, sizeof(retired) - sizeof(retired[0]));
			n_retired--;
		}
		retired[n_retired++] = loaded;
	}
	loaded = c.v;
	n_loaded = c.n;
	pthread_mutex_unlock(&loaded_mu);
	return PM_OK;
}

static void auto_load(void)
{
	char buf[512], err[600];
	const char *path = pm_conf_pick(NULL, "POSMARK_PRINTERS", "printers.conf", buf, sizeof(buf));
	if (path && prn_profiles_load(path, err, sizeof(err)))
		pm_warn("printer capabilities file not used: %s; hint: fix the line named (docs/printers.md, "
			"\"Printer capabilities file\"), or set POSMARK_PRINTERS=none", err);
}

const struct prn_profile *prni_profile_find(const char *name)
{
	const struct prn_profile *found = NULL;
	pthread_once(&auto_once, auto_load);
	if (!name || !*name)
		name = "generic";
	pthread_mutex_lock(&loaded_mu);
	for (size_t i = 0; i < n_loaded && !found; i++)
		if (!strcmp(name, loaded[i].name))
			found = &loaded[i].p;
	pthread_mutex_unlock(&loaded_mu);
	for (size_t i = 0; !found && i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(name, profiles[i].name))
			found = &profiles[i];
	return found;
}

size_t prn_profile_names(const char **names, size_t cap)
{
	size_t n = 0;
	pthread_once(&auto_once, auto_load);
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (n < cap)
			names[n++] = profiles[i].name;
	pthread_mutex_lock(&loaded_mu);
	for (size_t i = 0; i < n_loaded; i++) {
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(names[k], loaded[i].name);
		if (!dup && n < cap)
			names[n++] = loaded[i].name;
	}
	pthread_mutex_unlock(&loaded_mu);
	return n;
}

void prn_profile_list(char *buf, size_t len)
{
	const char *names[MAX_LOADED + 16];
	size_t n = prn_profile_names(names, sizeof(names) / sizeof(names[0])), o = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", names[i]);
}
