/*
 * bench_drivers.c - drivers/ throughput, each figure beside a baseline
 * measured in the same run (medians of REPS repetitions):
 *  1. scan_decode() over a mix of real inputs (EAN-13, UPC-A, EAN-8, GS1-128
 *     with AIs, cards, magstripe, coupons, garbage) against the floor of
 *     any decoder: one GS1 check digit over 13 digits per scan;
 *  2. ESC/POS encoding of a 40-line receipt with a barcode and a QR code,
 *     native symbols (epson-tm-t88v) and raster symbols drawn by zint
 *     (generic), against the text rendering of the same document.
 * Usage: bench_drivers [N_SCANS] [N_RECEIPTS] [REPS]
 */
#include "drivers/drivers.h"
#include "common/pm_gs1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *const inputs[] = {
	"4006381333931", "5901234123457", "036000291452", "96385074", "10012345678902",
	"2012345012998", "]C10109501101530003171407041" "0AB-123", "]C1010950110153000339221234",
	"6036000000000013", ";6036000000000013=25121010000000000000?",
	"%B6036000000000013^DOE/JANE^2512101000000000?", "PM-ABC123-XY", "0131106683520016",
	"hello world", "4006381333932", "(01)09501101530003(17)140704(10)AB-123",
};
#define N_INPUTS (sizeof(inputs) / sizeof(inputs[0]))

static volatile int sink;

static void build(struct prn_doc *d)
{
	prn_doc_init(d, 42);
	prn_doc_text(d, PRN_CENTER, PRN_BOLD | PRN_DOUBLE, "posmark store");
	for (int i = 0; i < 40; i++)
		prn_doc_pair(d, 0, "Crème brûlée 125g", "€1.99");
	prn_doc_pair(d, PRN_BOLD | PRN_DOUBLE, "TOTAL EUR", "79.60");
	prn_doc_barcode(d, PRN_CODE128, "PM-ABC123-XY");
	prn_doc_qr(d, "https://example.org/c/PM-ABC123-XY");
	prn_doc_cut(d);
}

int main(int argc, char **argv)
{
	long n_scans = argc > 1 ? atol(argv[1]) : 2000000;
	long n_rec = argc > 2 ? atol(argv[2]) : 2000;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	double t_dec[32], t_floor[32], t_nat[32], t_ras[32], t_txt[32];
	size_t lens[N_INPUTS];
	struct scan_config cfg;
	struct prn_doc doc;
	if (reps < 1 || reps > 32)
		reps = 5;
	scan_config_default(&cfg);
	for (size_t i = 0; i < N_INPUTS; i++)
		lens[i] = strlen(inputs[i]);
	build(&doc);
	for (int r = 0; r < reps; r++) {
		struct scan_result res;
		double t0 = now_s();
		for (long i = 0; i < n_scans; i++) {
			size_t k = (size_t)i % N_INPUTS;
			scan_decode(&cfg, inputs[k], lens[k], NULL, &res);
			sink += res.kind;
		}
		t_dec[r] = now_s() - t0;
		t0 = now_s();
		for (long i = 0; i < n_scans; i++)
			sink += pm_gs1_check_digit(inputs[(size_t)i % 2], 13);
		t_floor[r] = now_s() - t0;
		unsigned char *out;
		size_t len;
		t0 = now_s();
		for (long i = 0; i < n_rec; i++) {
			prn_escpos_encode(&doc, "epson-tm-t88v", &out, &len);
			sink += (int)len;
			free(out);
		}
		t_nat[r] = now_s() - t0;
		t0 = now_s();
		for (long i = 0; i < n_rec / 10 + 1; i++) {
			prn_escpos_encode(&doc, "generic", &out, &len);
			sink += (int)len;
			free(out);
		}
		t_ras[r] = (now_s() - t0) * (double)n_rec / (double)(n_rec / 10 + 1);
		t0 = now_s();
		for (long i = 0; i < n_rec; i++) {
			char *txt;
			prn_doc_to_text(&doc, &txt, &len);
			sink += (int)len;
			free(txt);
		}
		t_txt[r] = now_s() - t0;
	}
	double dec = (double)n_scans / median(t_dec, reps), flo = (double)n_scans / median(t_floor, reps);
	double nat = (double)n_rec / median(t_nat, reps), ras = (double)n_rec / median(t_ras, reps);
	double txt = (double)n_rec / median(t_txt, reps);
	printf("drivers: scan_decode, %zu-input mix   %12.0f scans/s   baseline (one check digit) %12.0f/s   ratio %.3f\n",
	       N_INPUTS, dec, flo, dec / flo);
	printf("drivers: ESC/POS receipt, native QR  %12.0f receipts/s baseline (text rendering) %10.0f/s   ratio %.3f\n",
	       nat, txt, nat / txt);
	printf("drivers: ESC/POS receipt, raster QR  %12.0f receipts/s baseline (text rendering) %10.0f/s   ratio %.3f\n",
	       ras, txt, ras / txt);
	printf("drivers: (medians of %d runs; %ld scans, %ld receipts per run)\n", reps, n_scans, n_rec);
	prn_doc_release(&doc);
	return 0;
}
