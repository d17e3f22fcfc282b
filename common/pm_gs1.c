/* pm_gs1.c - GS1 check digit, GTIN-14 normalisation (pm_gs1.h). */
#include "common/pm_gs1.h"

#include <string.h>

int pm_gs1_check_digit(const char *digits, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(digits[n - 1 - i] - '0');
		sum += (i % 2 == 0) ? 3 * d : d;
	}
	return (int)((10 - sum % 10) % 10);
}

bool pm_gtin14(const char *s, size_t len, char out[PM_GTIN14_LEN + 1])
{
	if (len != 8 && len != 12 && len != 13 && len != 14)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	if (pm_gs1_check_digit(s, len - 1) != s[len - 1] - '0')
		return false;
	memset(out, '0', PM_GTIN14_LEN - len);
	memcpy(out + PM_GTIN14_LEN - len, s, len);
	out[PM_GTIN14_LEN] = '\0';
	return true;
}
