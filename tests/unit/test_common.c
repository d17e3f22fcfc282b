/*
 * test_common.c - the helpers of common/: the growable buffer (pm_buf), whole
 * files (pm_file_read, pm_file_replace), GS1 check digits and GTIN-14
 * (pm_gs1), the FNV hash (pm_hash) and the error names (pm_err).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/pm_buf.h"
#include "common/pm_conf.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_gs1.h"
#include "common/pm_hash.h"
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

/* A fresh temporary directory (tu_rmdir it); the test stops if there is none. */
static char *tmpdir(void)
{
	char *d = tu_mkdtemp();
	if (!d) {
		fail_msg("cannot make a temporary directory");
		abort();
	}
	return d;
}

static void write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* The whole file as a string (asserted readable). */
static char *slurp(const char *path, size_t *len)
{
	char *s;
	assert_int_equal(pm_file_read(path, 0, &s, len), PM_OK);
	return s;
}

/* Entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* ---- pm_buf ---------------------------------------------------------------- */

static void test_buf_growth(void **state)
{
	(void)state;
	struct pm_buf b = { 0 };
	for (size_t i = 0; i < 100000; i++)
		assert_int_equal(pm_buf_addc(&b, (char)('a' + i % 26)), PM_OK);
	assert_int_equal(b.len, 100000);
	assert_true(b.cap >= b.len + 1);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is '%c'", i, b.data[i]);
	assert_int_equal(b.data[b.len], '\0');
	/* one large append past the capacity at once */
	char *big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 'z', 1 << 20);
	assert_int_equal(pm_buf_add(&b, big, 1 << 20), PM_OK);
	assert_int_equal(b.len, 100000 + (1 << 20));
	assert_int_equal(b.data[b.len - 1], 'z');
	assert_int_equal(b.data[b.len], '\0');
	free(big);
	pm_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	pm_buf_free(&b);   /* twice is harmless */
}

static void test_buf_nul(void **state)
{
	(void)state;
	struct pm_buf b = { 0 };
	/* Nothing appended: data stays NULL, but cstr gives "". */
	assert_int_equal(pm_buf_add(&b, NULL, 0), PM_OK);
	assert_null(b.data);
	char *s = pm_buf_cstr(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(pm_buf_adds(&b, "abc"), PM_OK);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	/* Binary bytes with a NUL inside: len counts them, a NUL follows. */
	assert_int_equal(pm_buf_add(&b, "x\0y", 3), PM_OK);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "abcx\0y", 7);
	/* reset keeps the allocation and leaves an empty string */
	char *before = b.data;
	pm_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, before);
	assert_string_equal(b.data, "");
	assert_int_equal(pm_buf_adds(&b, "q"), PM_OK);
	assert_string_equal(b.data, "q");
	pm_buf_free(&b);
}

static void test_buf_printf(void **state)
{
	(void)state;
	struct pm_buf b = { 0 };
	assert_int_equal(pm_buf_printf(&b, "%d-%s", 42, "x"), PM_OK);
	assert_string_equal(b.data, "42-x");
	/* Longer than the function's 256-byte stack buffer: formatted in place. */
	char long_text[5001];
	for (int i = 0; i < 5000; i++)
		long_text[i] = (char)('A' + i % 23);
	long_text[5000] = '\0';
	assert_int_equal(pm_buf_printf(&b, "[%s]%05d", long_text, 7), PM_OK);
	assert_int_equal(b.len, 4 + 1 + 5000 + 1 + 5);
	assert_memory_equal(b.data, "42-x[", 5);
	assert_memory_equal(b.data + 5, long_text, 5000);
	assert_string_equal(b.data + 5005, "]00007");
	/* Exactly 255 and 256 bytes: both sides of the stack buffer's edge. */
	pm_buf_reset(&b);
	assert_int_equal(pm_buf_printf(&b, "%.*s", 255, long_text), PM_OK);
	assert_int_equal(pm_buf_printf(&b, "%.*s", 256, long_text), PM_OK);
	assert_int_equal(b.len, 511);
	assert_memory_equal(b.data + 255, long_text, 256);
	assert_int_equal(b.data[511], '\0');
	/* An empty result appends nothing. */
	assert_int_equal(pm_buf_printf(&b, "%s", ""), PM_OK);
	assert_int_equal(b.len, 511);
	pm_buf_free(&b);
}

static void test_buf_take(void **state)
{
	(void)state;
	struct pm_buf b = { 0 };
	size_t len = 99;
	/* Nothing appended: NULL and 0. */
	assert_null(pm_buf_take(&b, &len));
	assert_int_equal(len, 0);
	assert_int_equal(pm_buf_adds(&b, "receipt"), PM_OK);
	char *p = pm_buf_take(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 7);
	assert_string_equal(p, "receipt");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* The buffer is usable again and independent of what was taken. */
	assert_int_equal(pm_buf_adds(&b, "next"), PM_OK);
	assert_string_equal(p, "receipt");
	assert_string_equal(b.data, "next");
	free(p);
	p = pm_buf_take(&b, NULL);   /* len may be NULL */
	assert_string_equal(p, "next");
	free(p);
	pm_buf_free(&b);
}

static void test_buf_take_frees(void **state)
{
	(void)state;
	struct pm_buf b = { 0 };
	assert_int_equal(pm_buf_adds(&b, "abc"), PM_OK);
	char *p = pm_buf_take(&b, NULL);
	assert_string_equal(p, "abc");
	free(p);   /* ASan: exactly one owner */
}

static void test_buf_overflow(void **state)
{
	(void)state;
	struct pm_buf b = { 0 };
	assert_int_equal(pm_buf_adds(&b, "keep"), PM_OK);
	size_t cap = b.cap;
	/* Sizes that cannot be allocated, or would wrap: PM_ENOMEM, buffer as it was. */
	assert_int_equal(pm_buf_reserve(&b, SIZE_MAX), PM_ENOMEM);
	assert_int_equal(pm_buf_reserve(&b, SIZE_MAX - 4), PM_ENOMEM);
	assert_int_equal(pm_buf_reserve(&b, SIZE_MAX / 2), PM_ENOMEM);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "keep");
	pm_buf_free(&b);
}

/* ---- pm_file_read ------------------------------------------------------------ */

static void test_file_read_missing(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[4200];
	char *out = (char *)&out;
	size_t len = 5;
	snprintf(path, sizeof(path), "%s/no-such-file", dir);
	assert_int_equal(pm_file_read(path, 0, &out, &len), PM_ENOENT);
	assert_null(out);
	assert_int_equal(len, 0);
	/* a missing directory on the way is PM_ENOENT too */
	snprintf(path, sizeof(path), "%s/no-dir/file", dir);
	assert_int_equal(pm_file_read(path, 0, &out, NULL), PM_ENOENT);
	/* a directory is not a file */
	assert_int_not_equal(pm_file_read(dir, 0, &out, NULL), PM_OK);
	assert_null(out);
	tu_rmdir(dir);
}

static void test_file_read_empty_and_content(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[4200];
	char *out;
	size_t len = 7;
	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "", 0);
	assert_int_equal(pm_file_read(path, 0, &out, &len), PM_OK);
	assert_non_null(out);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);

	/* Larger than the first read, with a NUL inside, NUL-terminated after. */
	size_t n = 300000;
	char *data = malloc(n);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7);
	snprintf(path, sizeof(path), "%s/big", dir);
	write_file(path, data, n);
	assert_int_equal(pm_file_read(path, 0, &out, &len), PM_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, data, n);
	assert_int_equal(out[n], '\0');
	free(out);
	free(data);

	/* A file whose size stat does not know (procfs says 0). */
	assert_int_equal(pm_file_read("/proc/self/status", 0, &out, &len), PM_OK);
	assert_true(len > 0);
	assert_non_null(strstr(out, "Name:"));
	assert_int_equal(strlen(out), len);
	free(out);
	tu_rmdir(dir);
}

static void test_file_read_max(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[4200];
	char *out;
	size_t len;
	snprintf(path, sizeof(path), "%s/ten", dir);
	write_file(path, "0123456789", 10);
	/* exactly max bytes: read */
	assert_int_equal(pm_file_read(path, 10, &out, &len), PM_OK);
	assert_int_equal(len, 10);
	assert_string_equal(out, "0123456789");
	free(out);
	/* the largest max is no limit (max + 1 must not wrap to 0) */
	assert_int_equal(pm_file_read(path, SIZE_MAX, &out, &len), PM_OK);
	assert_int_equal(len, 10);
	free(out);
	/* one byte more than max: refused, nothing returned */
	out = (char *)&out;
	len = 3;
	assert_int_equal(pm_file_read(path, 9, &out, &len), PM_EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_int_equal(pm_file_read(path, 1, &out, &len), PM_EINVAL);
	/* an empty file is within any max */
	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "", 0);
	assert_int_equal(pm_file_read(path, 1, &out, &len), PM_OK);
	assert_int_equal(len, 0);
	free(out);
	/* max applies to files stat cannot size either */
	assert_int_equal(pm_file_read("/proc/self/status", 4, &out, &len), PM_EINVAL);
	assert_null(out);
	tu_rmdir(dir);
}

/* ---- pm_file_replace --------------------------------------------------------- */

static void test_file_replace_content(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[4200];
	size_t len;
	struct stat st;
	snprintf(path, sizeof(path), "%s/rules.json", dir);
	/* a new file */
	assert_int_equal(pm_file_replace(path, "first", 5, 0640), PM_OK);
	char *s = slurp(path, &len);
	assert_string_equal(s, "first");
	free(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640 & ~(unsigned)umask(022));
	umask(022);
	/* replaced by a shorter one: no tail of the old content */
	assert_int_equal(pm_file_replace(path, "2nd", 3, 0644), PM_OK);
	s = slurp(path, &len);
	assert_int_equal(len, 3);
	assert_string_equal(s, "2nd");
	free(s);
	/* an empty content (data NULL) */
	assert_int_equal(pm_file_replace(path, NULL, 0, 0644), PM_OK);
	s = slurp(path, &len);
	assert_int_equal(len, 0);
	free(s);
	/* no temp file left behind */
	assert_int_equal(count_entries(dir), 1);
	/* a relative path (no directory part) works too */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(pm_file_replace("state", "s", 1, 0600), PM_OK);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	s = slurp(path, &len);
	assert_string_equal(s, "s");
	free(s);
	assert_int_equal(count_entries(dir), 2);
	/* a name that is a directory: refused */
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(pm_file_replace(path, "x", 1, 0644), PM_EINVAL);
	tu_rmdir(dir);
}

/* The directory is not writable: PM_EIO, the old file as it was. */
static void test_file_replace_readonly_dir(void **state)
{
	(void)state;
	char *dir = tmpdir(), sub[4200], path[4300];
	size_t len;
	snprintf(sub, sizeof(sub), "%s/ro", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/keys", sub);
	write_file(path, "old keys", 8);
	assert_int_equal(chmod(sub, 0555), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	int rc;
	if (geteuid() != 0) {
		rc = pm_file_replace(path, "new", 3, 0600);
	} else {
		/* root writes anywhere: try it as nobody in a child */
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(100);
			_exit(-pm_file_replace(path, "new", 3, 0600));
		}
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_not_equal(WEXITSTATUS(st), 100);
		rc = -WEXITSTATUS(st);
	}
	assert_int_equal(rc, PM_EIO);
	char *s = slurp(path, &len);
	assert_string_equal(s, "old keys");
	free(s);
	assert_int_equal(count_entries(sub), 1);
	assert_int_equal(chmod(sub, 0755), 0);
	tu_rmdir(dir);
}

/* The write fails half-way (file size limit, as a full disk would): the old
 * file is untouched and the temp file removed. */
static void test_file_replace_write_fails(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[4200];
	size_t len;
	struct rlimit old, small = { 4096, 4096 };
	snprintf(path, sizeof(path), "%s/rules.json", dir);
	write_file(path, "the old rules", 13);
	char *big = malloc(100000);
	assert_non_null(big);
	memset(big, 'n', 100000);

	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = pm_file_replace(path, big, 100000, 0644);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);

	assert_int_equal(rc, PM_EFULL);
	char *s = slurp(path, &len);
	assert_string_equal(s, "the old rules");
	free(s);
	assert_int_equal(count_entries(dir), 1);
	/* the rename fails (a directory of that name): temp removed as well */
	snprintf(path, sizeof(path), "%s/adir", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_not_equal(pm_file_replace(path, "x", 1, 0644), PM_OK);
	assert_int_equal(count_entries(dir), 2);
	free(big);
	tu_rmdir(dir);
}

/* Threads replacing one file at once: every call succeeds, the file is one
 * writer's content whole, no temp file is left. */
struct replacer {
	const char *path;
	char fill;
	int rc;
};

#define REPLACE_LEN 20000

static void *replace_loop(void *arg)
{
	struct replacer *r = arg;
	char *data = malloc(REPLACE_LEN);
	if (!data) {
		r->rc = PM_ENOMEM;
		return NULL;
	}
	memset(data, r->fill, REPLACE_LEN);
	for (int i = 0; i < 30 && r->rc == PM_OK; i++)
		r->rc = pm_file_replace(r->path, data, REPLACE_LEN, 0644);
	free(data);
	return NULL;
}

static void test_file_replace_threads(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[4200];
	pthread_t t[4];
	struct replacer r[4];
	size_t len;
	snprintf(path, sizeof(path), "%s/state", dir);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct replacer){ path, (char)('a' + i), PM_OK };
		assert_int_equal(pthread_create(&t[i], NULL, replace_loop, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].rc, PM_OK);
	}
	char *s = slurp(path, &len);
	assert_int_equal(len, REPLACE_LEN);
	for (size_t i = 1; i < len; i++)
		if (s[i] != s[0])
			fail_msg("mixed content at byte %zu: '%c' after '%c'", i, s[i], s[0]);
	free(s);
	assert_int_equal(count_entries(dir), 1);
	tu_rmdir(dir);
}

/* ---- pm_gs1 -------------------------------------------------------------------- */

static void test_gs1_check_digit(void **state)
{
	(void)state;
	/* Examples from GS1 and the symbologies' literature. */
	assert_int_equal(pm_gs1_check_digit("400638133393", 12), 1);   /* EAN-13 4006381333931 */
	assert_int_equal(pm_gs1_check_digit("629104150021", 12), 3);   /* GS1 General Specs */
	assert_int_equal(pm_gs1_check_digit("9638507", 7), 4);         /* EAN-8 96385074 */
	assert_int_equal(pm_gs1_check_digit("03600029145", 11), 2);    /* UPC-A 036000291452 */
	assert_int_equal(pm_gs1_check_digit("1001234512345", 13), 7);  /* GTIN-14 */
	assert_int_equal(pm_gs1_check_digit("0000000000000", 13), 0);
	/* SSCC (17 data digits): weights start with 3 at the right end */
	assert_int_equal(pm_gs1_check_digit("00614141123456789", 17), 0);
	/* only n digits count */
	assert_int_equal(pm_gs1_check_digit("4006381333939999", 12), 1);
}

static void test_gtin14(void **state)
{
	(void)state;
	char out[PM_GTIN14_LEN + 1];
	assert_true(pm_gtin14("4006381333931", 13, out));
	assert_string_equal(out, "04006381333931");
	assert_true(pm_gtin14("96385074", 8, out));
	assert_string_equal(out, "00000096385074");
	assert_true(pm_gtin14("036000291452", 12, out));
	assert_string_equal(out, "00036000291452");
	assert_true(pm_gtin14("10012345123457", 14, out));
	assert_string_equal(out, "10012345123457");
	/* only len bytes are read */
	assert_true(pm_gtin14("4006381333931trailing", 13, out));
	assert_string_equal(out, "04006381333931");

	/* wrong check digit, non-digits, wrong lengths: false, out untouched */
	static const struct { const char *s; size_t len; } bad[] = {
		{ "4006381333932", 13 }, { "96385075", 8 }, { "036000291453", 12 },
		{ "10012345123450", 14 }, { "400638133393a", 13 }, { " 400638133393", 13 },
		{ "4006381333\0931", 13 }, { "-4006381333931", 14 }, { "", 0 }, { "9638507", 7 },
		{ "400638133393", 9 }, { "4006381333", 10 }, { "40063813339", 11 },
		{ "040063813339310", 15 }, { "0000000000000000", 16 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 'X', sizeof(out));
		if (pm_gtin14(bad[i].s, bad[i].len, out))
			fail_msg("'%.*s' (len %zu) accepted", (int)bad[i].len, bad[i].s, bad[i].len);
		for (size_t k = 0; k < sizeof(out); k++)
			assert_int_equal(out[k], 'X');
	}
}

/* ---- pm_hash --------------------------------------------------------------------- */

static void test_hash(void **state)
{
	(void)state;
	/* posmark's FNV-1a (its own offset basis, pm_hash.h): values that
	 * printed coupon tags depend on must never change. */
	assert_true(pm_fnv1a64("", 0) == 0x14650fb0739d0383ULL);
	assert_true(pm_fnv1a64("a", 1) == 0x44bd8ad473cd9906ULL);
	assert_true(pm_fnv1a64("foobar", 6) == 0x88fad7c0a8ff07f2ULL);
	/* update continues a hash */
	assert_true(pm_fnv1a64_update(pm_fnv1a64("foo", 3), "bar", 3) == pm_fnv1a64("foobar", 6));
	/* bytes above 0x7f are unsigned */
	assert_true(pm_fnv1a64("\xff", 1) == ((PM_FNV64_INIT ^ 0xffULL) * 1099511628211ULL));
	/* the mix spreads a one-bit change over the low bits */
	assert_true((pm_mix64(1) & 0xffff) != (pm_mix64(2) & 0xffff));
	assert_true(pm_mix64(0) == 0);
}

/* ---- pm_err ----------------------------------------------------------------------- */

static void test_errname(void **state)
{
	(void)state;
#define E(code) { code, #code }
	static const struct { int code; const char *name; } all[] = {
		E(PM_OK), E(PM_EIO), E(PM_ENOMEM), E(PM_EINVAL), E(PM_ENOENT), E(PM_EFULL),
		E(PM_EBADSTATE), E(PM_EEXIST), E(PM_ECORRUPT), E(PM_EVERSION), E(PM_ECHECK),
		E(PM_ETIMEOUT), E(PM_ENOTSUP), E(PM_EBUSY), E(PM_ENODEV), E(PM_EPAPER),
		E(PM_EOFFLINE), E(PM_EREFUSED), E(PM_EPROTO), E(PM_EEXPIRED),
	};
#undef E
	assert_int_equal(sizeof(all) / sizeof(all[0]), PM_ERR_COUNT);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_int_equal(all[i].code, -(int)i);   /* codes are dense, never renumbered */
		assert_string_equal(pm_errname(all[i].code), all[i].name);
		/* pm_strerror begins with the same name and a colon */
		const char *msg = pm_strerror(all[i].code);
		size_t n = strlen(all[i].name);
		assert_int_equal(strncmp(msg, all[i].name, n), 0);
		assert_int_equal(msg[n], ':');
		assert_true(strlen(msg) > n + 2);
	}
	/* not a code */
	assert_string_equal(pm_errname(1), "PM_E?");
	assert_string_equal(pm_errname(-PM_ERR_COUNT), "PM_E?");
	assert_string_equal(pm_errname(INT_MIN), "PM_E?");
	assert_non_null(pm_strerror(INT_MIN));
	assert_non_null(pm_strerror(INT_MAX));
	/* a few errno translations */
	assert_int_equal(pm_from_errno(0), PM_OK);
	assert_int_equal(pm_from_errno(ENOENT), PM_ENOENT);
	assert_int_equal(pm_from_errno(ENOSPC), PM_EFULL);
	assert_int_equal(pm_from_errno(EACCES), PM_EIO);
}

/* ---- pm_conf_read ---- */
struct conf_seen {
	int n;
	char got[8][96];
};

static int conf_collect(void *ctx, const char *section, const char *key, const char *value, char *msg,
			size_t msglen)
{
	struct conf_seen *cs = ctx;
	if (!strcmp(key, "bad")) {
		snprintf(msg, msglen, "option 'bad' is refused");
		return PM_EINVAL;
	}
	if (cs->n < 8)
		snprintf(cs->got[cs->n++], sizeof(cs->got[0]), "%s|%s|%s", section, key, value);
	return PM_OK;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_conf_read(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), path[4200], err[600];
	struct conf_seen cs = { 0 };
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	write_text(path, "top = 1\n# comment\n; comment\n\n[ store ]\n  id =  S1 \nname=Corner Market\n[hq]\nurl = http://x/?a=b\n");
	assert_int_equal(pm_conf_read(path, conf_collect, &cs, err, sizeof(err)), PM_OK);
	assert_int_equal(cs.n, 4);
	assert_string_equal(cs.got[0], "|top|1");
	assert_string_equal(cs.got[1], "store|id|S1");
	assert_string_equal(cs.got[2], "store|name|Corner Market");
	assert_string_equal(cs.got[3], "hq|url|http://x/?a=b");   /* only the first '=' splits */

	write_text(path, "a = 1\nno equals sign\n");
	assert_int_equal(pm_conf_read(path, conf_collect, &cs, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "a.conf:2: expected 'key = value'"));
	write_text(path, "[store\n");
	assert_int_equal(pm_conf_read(path, conf_collect, &cs, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "a.conf:1: malformed section header"));
	write_text(path, "\n\nbad = 1\nnever = read\n");
	cs.n = 0;
	assert_int_equal(pm_conf_read(path, conf_collect, &cs, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "a.conf:3: option 'bad' is refused"));
	assert_int_equal(cs.n, 0);                                  /* the read stops there */
	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	assert_int_equal(pm_conf_read(path, conf_collect, &cs, err, sizeof(err)), PM_ENOENT);
	assert_non_null(strstr(err, "cannot read config file"));
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_nul),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_take),
		cmocka_unit_test(test_buf_take_frees),
		cmocka_unit_test(test_buf_overflow),
		cmocka_unit_test(test_file_read_missing),
		cmocka_unit_test(test_file_read_empty_and_content),
		cmocka_unit_test(test_file_read_max),
		cmocka_unit_test(test_file_replace_content),
		cmocka_unit_test(test_file_replace_readonly_dir),
		cmocka_unit_test(test_file_replace_write_fails),
		cmocka_unit_test(test_file_replace_threads),
		cmocka_unit_test(test_gs1_check_digit),
		cmocka_unit_test(test_gtin14),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_errname),
		cmocka_unit_test(test_conf_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
