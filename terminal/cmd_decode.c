/* cmd_decode.c - posmark decode BARCODE...: how each scan is understood, as JSON lines. */
#include "terminal/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int cmd_decode(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	int rc = cli_setup(&argc, argv, &co, &cfg), status = 0;

	if (rc)
		return rc;
	if (co.help || argc < 2) {
		term_help_command("decode", co.help ? stdout : stderr);
		return co.help ? 0 : 2;
	}
	for (int i = 1; i < argc; i++) {
		struct scan_result r;
		json_t *o;
		scan_decode(&cfg.scan, argv[i], strlen(argv[i]), NULL, &r);
		o = json_pack("{s:s, s:s}", "input", argv[i], "kind", scan_kind_name(r.kind));
		if (r.symbology[0])
			json_object_set_new(o, "symbology", json_string(r.symbology));
		if (r.gtin[0])
			json_object_set_new(o, "gtin", json_string(r.gtin));
		if (r.card[0])
			json_object_set_new(o, "card", json_string(r.card));
		if (r.coupon[0])
			json_object_set_new(o, "coupon", json_string(r.coupon));
		if (r.price_cents >= 0)
			json_object_set_new(o, "price_cents", json_integer(r.price_cents));
		if (r.weight_g >= 0)
			json_object_set_new(o, "weight_g", json_integer(r.weight_g));
		if (r.batch[0])
			json_object_set_new(o, "batch", json_string(r.batch));
		if (r.expiry[0])
			json_object_set_new(o, "expiry", json_string(r.expiry));
		if (r.kind == SCAN_UNKNOWN) {
			json_object_set_new(o, "error", json_string(r.error));
			status = 1;
		}
		char *s = json_dumps(o, JSON_COMPACT);
		puts(s ? s : "{}");
		free(s);
		json_decref(o);
	}
	return status;
}
