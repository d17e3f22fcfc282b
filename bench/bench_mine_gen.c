/*
 * bench_mine_gen.c - data for bench/mine.sh (never committed: generated per run).
 *
 *   bench_mine_gen synth N SEED OUT       N baskets in FIMI format
 *   bench_mine_gen arff IN basket|fimi OUT   sparse ARFF for Weka's FPGrowth
 *
 * synth: a grocery-like store. 20,000 products with Zipf popularity
 * (exponent 1, as shelf sales are), basket sizes from a shifted geometric
 * distribution (mean about 9 items, cap 80, like Groceries' 4.4 and retail's
 * 10.3), and 400 co-purchase bundles of 2-5 products (drawn by popularity)
 * of which a third of baskets carry one, each product kept with p 0.8, so
 * there are rules to find. Product numbers are shuffled so an item's number
 * says nothing about its popularity.
 *
 * arff: one attribute per item with values {0,1}, one sparse instance per
 * basket ({index 1, ...}); Weka's FPGrowth counts value 1 of sparse data.
 * Item names become attribute names (quoted).
 */
#include "common/pm_hash.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ITEMS 20000
#define N_BUNDLES 400

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_u64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double uniform(void)
{
	return (double)(next_u64() >> 11) / 9007199254740992.0;
}

static double *cdf;

static uint32_t zipf(void)
{
	double u = uniform();
	uint32_t lo = 0, hi = N_ITEMS - 1;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int synth(long n, uint64_t seed, const char *out)
{
	static uint32_t perm[N_ITEMS], bundle[N_BUNDLES][5], bsize[N_BUNDLES];
	FILE *f = fopen(out, "w");
	double sum = 0;

	if (!f) {
		perror(out);
		return 1;
	}
	rng ^= seed * 0x9e3779b97f4a7c15ULL;
	cdf = malloc(N_ITEMS * sizeof(double));
	for (int i = 0; i < N_ITEMS; i++)
		sum += 1.0 / (i + 1);
	for (int i = 0, acc = 0; i < N_ITEMS; i++, acc++)
		cdf[i] = (i ? cdf[i - 1] : 0) + 1.0 / (i + 1) / sum;
	for (int i = 0; i < N_ITEMS; i++)
		perm[i] = (uint32_t)i;
	for (int i = N_ITEMS - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(next_u64() % (uint64_t)(i + 1)), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int b = 0; b < N_BUNDLES; b++) {
		bsize[b] = 2 + (uint32_t)(next_u64() % 4);
		for (uint32_t k = 0; k < bsize[b]; k++)
			bundle[b][k] = zipf() / 4 + (uint32_t)(next_u64() % 200);   /* popular-ish items */
	}
	for (long t = 0; t < n; t++) {
		uint32_t items[128], m = 0, size = 1;
		while (size < 80 && uniform() > 1.0 / 8.5)
			size++;
		if (uniform() < 1.0 / 3) {
			uint32_t b = zipf() % N_BUNDLES;
			for (uint32_t k = 0; k < bsize[b]; k++)
				if (uniform() < 0.8)
					items[m++] = bundle[b][k];
		}
		while (m < size + 2 && m < 120 && (m < size))
			items[m++] = zipf();
		for (uint32_t k = 0; k < m; k++)
			fprintf(f, k ? " %u" : "%u", perm[items[k] % N_ITEMS]);
		fputc('\n', f);
	}
	free(cdf);
	return fclose(f) ? 1 : 0;
}

/* ---- ARFF for Weka -------------------------------------------------------- */

struct item {
	char *name;
	int id;
};
static struct item *items;
static size_t n_items, cap_items;
static int *htab;
static size_t hsize = 1 << 20;

static int intern(const char *s)
{
	size_t h = (size_t)pm_fnv1a64(s, strlen(s)) & (hsize - 1);
	while (htab[h] >= 0) {
		if (!strcmp(items[htab[h]].name, s))
			return htab[h];
		h = (h + 1) & (hsize - 1);
	}
	if (n_items == cap_items) {
		cap_items = cap_items ? cap_items * 2 : 1024;
		items = realloc(items, cap_items * sizeof(*items));
	}
	items[n_items].name = strdup(s);
	items[n_items].id = (int)n_items;
	htab[h] = (int)n_items;
	return (int)n_items++;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void arff_name(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* Two passes: names first (the header lists every attribute), then rows. */
static int arff(const char *in, const char *fmt, const char *out)
{
	FILE *f = fopen(in, "r"), *o;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int fimi = !strcmp(fmt, "fimi");
	int *row = malloc(100000 * sizeof(int));
	char *tmp = NULL;

	if (!f) {
		perror(in);
		return 1;
	}
	o = fopen(out, "w");
	if (!o) {
		perror(out);
		return 1;
	}
	htab = malloc(hsize * sizeof(int));
	memset(htab, 0xff, hsize * sizeof(int));
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		if (pass == 1) {
			fprintf(o, "@relation baskets\n");
			for (size_t i = 0; i < n_items; i++) {
				fprintf(o, "@attribute ");
				arff_name(o, items[i].name);
				fprintf(o, " {0,1}\n");
			}
			fprintf(o, "@data\n");
		}
		while ((len = getline(&line, &cap, f)) > 0) {
			int n = 0;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			free(tmp);
			tmp = strdup(line);
			for (char *sv, *t = strtok_r(tmp, fimi ? " \t" : ",", &sv); t;
			     t = strtok_r(NULL, fimi ? " \t" : ",", &sv))
				if (*t && n < 100000)
					row[n++] = intern(t);
			if (pass == 0)
				continue;
			qsort(row, (size_t)n, sizeof(int), cmp_int);
			fputc('{', o);
			for (int k = 0, w = 0; k < n; k++)
				if (k == 0 || row[k] != row[k - 1])
					fprintf(o, w++ ? ",%d 1" : "%d 1", row[k]);
			fputs("}\n", o);
		}
	}
	free(tmp);
	free(line);
	free(row);
	fclose(f);
	return fclose(o) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "synth"))
		return synth(atol(argv[2]), strtoull(argv[3], NULL, 10), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "arff"))
		return arff(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: bench_mine_gen synth N SEED OUT | arff IN basket|fimi OUT\n");
	return 2;
}
