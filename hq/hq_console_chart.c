/*
 * hq_console_chart.c - a page document's charts as SVG drawn by posmark-hq
 * (docs/console.md, "Charts"; why no charting library: docs/dependencies.md):
 * grouped bars, stacked bars and lines over a table's rows, a y axis from 0
 * to the largest value shown in the column's type, at most 8 x labels, a
 * legend. Presentation attributes only (no style attributes), so the
 * console's Content-Security-Policy allows them.
 */
#include "hq/hq_console_int.h"
#include "common/pm_buf.h"

#include <math.h>
#include <string.h>

#define SERIES_MAX 6
static const char *const palette[SERIES_MAX] = { "#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096" };

/* Geometry: width, height, margins left, right, top, bottom. */
static const double W = 720, H = 240, L = 70, R = 10, T = 10, B = 40;

struct chart {
	const json_t *t, *rows, *ys;
	size_t n, ny;
	int xi, yi[SERIES_MAX];
	bool stacked, line;
	double max, step, pw, ph;
};

static double num(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : 0.0;
}

static double at(const struct chart *c, size_t row, size_t s)
{
	double v = num(json_array_get(json_array_get(c->rows, row), (size_t)c->yi[s]));
	return v > 0 ? v : 0; /* bars and lines start at 0: negative values are drawn as 0 */
}

/* The chart's table, columns and scale; false when there is nothing to draw. */
static bool chart_setup(const json_t *doc, const json_t *chart, struct chart *c)
{
	const char *type = json_string_value(json_object_get(chart, "type"));
	const char *table = json_string_value(json_object_get(chart, "table"));
	memset(c, 0, sizeof(*c));
	c->t = console_find_table(doc, table ? table : "");
	c->rows = json_object_get(c->t, "rows");
	c->ys = json_object_get(chart, "y");
	c->n = json_array_size(c->rows);
	c->ny = json_array_size(c->ys) > SERIES_MAX ? SERIES_MAX : json_array_size(c->ys);
	c->xi = c->t ? console_col_index(c->t, json_string_value(json_object_get(chart, "x"))) : -1;
	if (!c->t || c->xi < 0 || !c->ny || !c->n || !type)
		return false;
	for (size_t s = 0; s < c->ny; s++)
		if ((c->yi[s] = console_col_index(c->t, json_string_value(json_array_get(c->ys, s)))) < 0)
			return false;
	c->stacked = !strcmp(type, "stacked_bar");
	c->line = !strcmp(type, "line");
	for (size_t i = 0; i < c->n; i++) {
		double sum = 0;
		for (size_t s = 0; s < c->ny; s++) {
			sum += at(c, i, s);
			if (!c->stacked && at(c, i, s) > c->max)
				c->max = at(c, i, s);
		}
		if (c->stacked && sum > c->max)
			c->max = sum;
	}
	if (c->max <= 0)
		c->max = 1;
	c->pw = W - L - R;
	c->ph = H - T - B;
	c->step = c->pw / (double)c->n;
	return true;
}

static void axes(const struct chart *c, struct pm_buf *b)
{
	const json_t *ycol = json_array_get(json_object_get(c->t, "columns"), (size_t)c->yi[0]);
	const char *ytype = json_string_value(json_object_get(ycol, "type"));
	bool whole = (ytype && !strcmp(ytype, "cents")) || (!(ytype && !strcmp(ytype, "ratio")) && c->max == floor(c->max));
	json_t *maxv = whole ? json_integer((json_int_t)c->max) : json_real(c->max);
	struct pm_buf lab = { 0 };
	console_value_text(&lab, ytype, maxv);
	json_decref(maxv);
	pm_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>", L, T + c->ph, L + c->pw,
		      T + c->ph);
	pm_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>", L, T, L, T + c->ph);
	pm_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\" font-size=\"11\">", L - 4, T + 10);
	console_html_esc(b, pm_buf_cstr(&lab));
	pm_buf_printf(b, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\" font-size=\"11\">0</text>", L - 4, T + c->ph);
	pm_buf_free(&lab);
}

static void series(const struct chart *c, struct pm_buf *b)
{
	for (size_t s = 0; s < c->ny && c->line; s++) {
		pm_buf_printf(b, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"", palette[s]);
		for (size_t i = 0; i < c->n; i++)
			pm_buf_printf(b, "%.1f,%.1f ", L + c->step * ((double)i + 0.5), T + c->ph - at(c, i, s) / c->max * c->ph);
		pm_buf_adds(b, "\"/>");
	}
	double bw = c->step * 0.8 / (c->stacked ? 1.0 : (double)c->ny);
	for (size_t i = 0; i < c->n && !c->line; i++) {
		double base = 0;
		for (size_t s = 0; s < c->ny; s++) {
			double h = at(c, i, s) / c->max * c->ph;
			double x = L + c->step * (double)i + c->step * 0.1 + (c->stacked ? 0 : bw * (double)s);
			pm_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", x,
				      T + c->ph - h - base, bw > 1 ? bw - 0.5 : bw, h, palette[s]);
			if (c->stacked)
				base += h;
		}
	}
}

static void labels(const struct chart *c, struct pm_buf *b)
{
	const json_t *cols = json_object_get(c->t, "columns");
	const json_t *xcol = json_array_get(cols, (size_t)c->xi);
	size_t every = c->n > 8 ? (c->n + 7) / 8 : 1;
	for (size_t i = 0; i < c->n; i += every) {
		struct pm_buf x = { 0 };
		console_value_text(&x, json_string_value(json_object_get(xcol, "type")),
				   json_array_get(json_array_get(c->rows, i), (size_t)c->xi));
		pm_buf_printf(b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\">",
			      L + c->step * ((double)i + 0.5), T + c->ph + 14);
		console_html_esc(b, pm_buf_cstr(&x));
		pm_buf_adds(b, "</text>");
		pm_buf_free(&x);
	}
	for (size_t s = 0; s < c->ny; s++) {
		const char *label = json_string_value(json_object_get(json_array_get(cols, (size_t)c->yi[s]), "label"));
		pm_buf_printf(b, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>", L + 140.0 * (double)s,
			      H - 14, palette[s]);
		pm_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">", L + 140.0 * (double)s + 14, H - 5);
		console_html_esc(b, label ? label : json_string_value(json_array_get(c->ys, s)));
		pm_buf_adds(b, "</text>");
	}
}

void console_render_chart(const json_t *doc, const json_t *chart, struct pm_buf *b)
{
	struct chart c;
	if (!chart_setup(doc, chart, &c))
		return;
	pm_buf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">", W, H);
	axes(&c, b);
	series(&c, b);
	labels(&c, b);
	pm_buf_adds(b, "</svg>");
}
