/* prn_core.c - printer dispatch: parse the device string, pick the backend. */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct prn_ops *const prn_backends[] = {
	&prn_text_ops,
	&prn_escpos_file_ops,
	&prn_tcp_ops,
	&prn_usblp_ops,
	&prn_usb_ops,
};

/*
 * Split ",profile=NAME,timeout=MS" (text: also ",max_kb=N,keep=N"; text: and escpos: ",status=FILE")
 * off the device argument (a file name
 * with a comma cannot be used; docs/printers.md says so).
 */
static int parse_options(struct prn_dev *p, char *arg, char *errbuf, size_t errlen)
{
	char *opt = strchr(arg, ',');
	if (!opt)
		return PM_OK;
	*opt++ = '\0';
	while (opt && *opt) {
		char *next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!strncmp(opt, "profile=", 8)) {
			if (!(p->profile = prni_profile_find(opt + 8))) {
				char names[600];
				prn_profile_list(names, sizeof(names));
				snprintf(errbuf, errlen, "printer profile '%s' is unknown; the known ones: %s (add a "
					 "model in a capabilities file: docs/printers.md)", opt + 8, names);
				return PM_EINVAL;
			}
		} else if (!strncmp(opt, "timeout=", 8)) {
			char *end;
			long ms = strtol(opt + 8, &end, 10);
			if (*end || ms < 10 || ms > 600000) {
				snprintf(errbuf, errlen, "printer option '%s' is not valid: timeout is 10..600000 ms", opt);
				return PM_EINVAL;
			}
			p->timeout_ms = (int)ms;
		} else if (!strncmp(opt, "status=", 7)) {
			/* A simulated printer's state, read from a file at every status query (tests, demos). */
			if (p->ops != &prn_text_ops && p->ops != &prn_escpos_file_ops) {
				snprintf(errbuf, errlen, "printer option '%s' applies to text: and escpos: printers only", opt);
				return PM_EINVAL;
			}
			if (!opt[7] || strlen(opt + 7) >= sizeof(p->status_file)) {
				snprintf(errbuf, errlen, "printer option '%s' needs a file path (at most %zu bytes)", opt,
					 sizeof(p->status_file) - 1);
				return PM_EINVAL;
			}
			snprintf(p->status_file, sizeof(p->status_file), "%s", opt + 7);
		} else if (!strncmp(opt, "max_kb=", 7) || !strncmp(opt, "keep=", 5)) {
			bool kb = opt[0] == 'm';
			char *end;
			long n = strtol(opt + (kb ? 7 : 5), &end, 10);
			if (p->ops != &prn_text_ops) {
				snprintf(errbuf, errlen, "printer option '%s' applies to text: printers only", opt);
				return PM_EINVAL;
			}
			if (*end || end == opt + (kb ? 7 : 5) || n < 0 || n > (kb ? 4194304 : 99)) {
				snprintf(errbuf, errlen, "printer option '%s' is not valid: %s", opt,
					 kb ? "max_kb is 0 (no limit)..4194304 KiB" : "keep is 0..99 old files");
				return PM_EINVAL;
			}
			if (kb)
				p->file_max_bytes = (long long)n << 10;
			else
				p->file_keep = (int)n;
		} else {
			snprintf(errbuf, errlen, "printer option '%s' is unknown; use profile=NAME, timeout=MS or, "
				 "for text:, max_kb=N and keep=N (text: and escpos: also status=FILE)", opt);
			return PM_EINVAL;
		}
		opt = next;
	}
	return PM_OK;
}

const char *prn_state_words(int state)
{
	switch (state) {
	case PRN_READY: return "printer ready";
	case PRN_PAPER_OUT: return "printer is out of paper: load a new roll";
	case PRN_COVER_OPEN: return "printer cover is open: close it";
	case PRN_OFFLINE: return "printer is offline: check its cable and power";
	default: return "printer state unknown";
	}
}

int prn_open(const char *spec, struct prn_dev **out, char *errbuf, size_t errlen)
{
	const struct prn_ops *ops = NULL;
	const char *colon;
	struct prn_dev *p;
	int rc;

	*out = NULL;
	if (!spec || !(colon = strchr(spec, ':'))) {
		snprintf(errbuf, errlen, "printer '%s' is not a device string; use text:FILE, escpos:FILE, "
			 "usb:VID:PID, usblp:/dev/usb/lp0 or tcp:HOST[:PORT]", spec ? spec : "");
		return PM_EINVAL;
	}
	for (size_t i = 0; i < sizeof(prn_backends) / sizeof(prn_backends[0]); i++)
		if (strlen(prn_backends[i]->scheme) == (size_t)(colon - spec) &&
		    !strncmp(spec, prn_backends[i]->scheme, (size_t)(colon - spec)))
			ops = prn_backends[i];
	if (!ops) {
		snprintf(errbuf, errlen, "printer kind '%.*s' is unknown; use text:, escpos:, usb:, usblp: or tcp:",
			 (int)(colon - spec), spec);
		return PM_EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return PM_ENOMEM;
	p->ops = ops;
	p->profile = prni_profile_find(NULL);
	p->timeout_ms = 2000;
	p->file_max_bytes = (long long)PRNI_TEXT_MAX_KB_DEFAULT << 10;
	p->file_keep = PRNI_TEXT_KEEP_DEFAULT;
	snprintf(p->name, sizeof(p->name), "%s", spec);
	if (ops->priv_size && !(p->priv = calloc(1, ops->priv_size))) {
		free(p);
		return PM_ENOMEM;
	}
	char *arg = strdup(colon + 1);
	rc = arg ? parse_options(p, arg, errbuf, errlen) : PM_ENOMEM;
	if (rc == PM_OK)
		rc = ops->open(p, arg, errbuf, errlen);
	free(arg);
	if (rc < 0) {
		free(p->priv);
		free(p);
		return rc;
	}
	*out = p;
	return PM_OK;
}

static int state_error(int state)
{
	return state == PRN_READY ? PM_OK : state == PRN_OFFLINE ? PM_EOFFLINE : PM_EPAPER;
}

static int print_escpos(struct prn_dev *p, const struct prn_doc *doc)
{
	struct prni_buf b = { 0 };
	int state, rc = prn_status(p, &state);
	if (rc || (rc = state_error(state)))
		return rc;
	if ((rc = prni_escpos_encode(doc, p->profile, &b)) == PM_OK)
		rc = p->ops->write(p, (const unsigned char *)b.bytes.data, b.bytes.len);
	prni_buf_release(&b);
	if (rc || (rc = prn_status(p, &state)))
		return rc;
	return state_error(state);
}

int prn_print(struct prn_dev *p, const struct prn_doc *doc)
{
	if (!p || !doc)
		return PM_EINVAL;
	return p->ops->write ? print_escpos(p, doc) : p->ops->print(p, doc);
}

int prn_set_profile(struct prn_dev *p, const char *name)
{
	const struct prn_profile *prof = prni_profile_find(name);
	if (!p || !prof)
		return PM_EINVAL;
	p->profile = prof;
	return PM_OK;
}

int prn_status(struct prn_dev *p, int *state)
{
	*state = PRN_READY;
	if (!p)
		return PM_EINVAL;
	return p->ops->status ? p->ops->status(p, state) : PM_OK;
}

const char *prn_dev_name(const struct prn_dev *p)
{
	return p ? p->name : "";
}

void prn_close(struct prn_dev *p)
{
	if (!p)
		return;
	p->ops->close(p);
	free(p->priv);
	free(p);
}
