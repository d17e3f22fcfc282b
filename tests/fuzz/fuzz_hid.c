/*
 * fuzz_hid.c - libFuzzer target for what USB HID scanners send: the bytes
 * are cut into reports (their lengths from the input) and fed to the boot
 * keyboard decoder, the HID POS report decoder and the report descriptor
 * walker. Exact-size copies of each report; no state between runs.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scani_kbd kbd;
	struct scani_pos pos;
	struct scan_raw out;
	pm_log_level = PM_LOG_ERR;
	memset(&kbd, 0, sizeof(kbd));
	memset(&pos, 0, sizeof(pos));
	scani_report_desc_is_pos(data, size);
	for (size_t i = 0; i < size;) {
		size_t len = data[i] % 70;         /* the report length, then the report */
		i++;
		if (len > size - i)
			len = size - i;
		unsigned char *rep = malloc(len ? len : 1);
		if (!rep)
			return 0;
		memcpy(rep, data + i, len);
		int rc = (len == 64 || (len > 0 && rep[0] == 2)) ? scani_pos_report(&pos, rep, len, &out)
								 : scani_kbd_report(&kbd, rep, len, &out);
		if (rc == 1 && (out.len >= sizeof(out.data) || out.data[out.len] != '\0'))
			abort();
		free(rep);
		i += len;
	}
	return 0;
}
