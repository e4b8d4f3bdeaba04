/* fuzz_report: the files trload's report mode reads
 * (tools/trload/report.h tl_report_read_json, tl_report_read_extra,
 * tl_report_read_line_log), and the writers and checks run on what was
 * read, as `trload report` and `trload line-check` do.
 *
 * Input: byte 0 picks the file (mod 3): 0 a trload result (JSON), 1 an
 * extra rows file (JSON), 2 a waitlist log (JSON); the rest is the file.
 *
 * Checked: the readers read only the bytes they are given; a result read
 * is written as JSON that reads back and is written again byte for byte
 * the same; extra rows' strings fit their fields and their verdicts are
 * the four words; the HTML page and the summary are written from both; a
 * waitlist log's order check counts at most one violation per offer and
 * names a first one that is in the log.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "tr_err.h"

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n",          \
			    __FILE__, __LINE__, #cond);                       \
			abort();                                              \
		}                                                             \
	} while (0)

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	CHECK(devnull != NULL);
	return 0;
}

/* The run as JSON, in memory. */
static char *
write_json(const tl_run *run, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	CHECK(f != NULL);
	CHECK(tl_report_write_json(run, f) == 0);
	CHECK(fclose(f) == 0);
	return text;
}

static void
fuzz_result(const uint8_t *data, size_t size)
{
	tl_run *run = NULL, *again = NULL;
	char *first, *second;
	size_t n1, n2;

	if (tl_report_read_json((const char *)data, size, &run) != 0)
		return;
	/* What was read is written as a document that reads back as
	 * itself. */
	first = write_json(run, &n1);
	CHECK(tl_report_read_json(first, n1, &again) == 0);
	second = write_json(again, &n2);
	CHECK(n1 == n2 && memcmp(first, second, n1) == 0);
	CHECK(tl_report_write_html(run, NULL, 0, devnull) == 0);
	tl_report_write_summary(run, devnull);
	free(first);
	free(second);
	tl_run_free(again);
	tl_run_free(run);
}

static void
fuzz_extra(const uint8_t *data, size_t size)
{
	tl_extra_row *rows = NULL;
	tl_run *run;
	size_t n = 0;

	if (tl_report_read_extra((const char *)data, size, &rows, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const tl_extra_row *r = &rows[i];
		CHECK(memchr(r->name, '\0', sizeof(r->name)) != NULL);
		CHECK(memchr(r->value, '\0', sizeof(r->value)) != NULL);
		CHECK(memchr(r->note, '\0', sizeof(r->note)) != NULL);
		CHECK(strcmp(r->verdict, "pass") == 0 ||
		    strcmp(r->verdict, "fail") == 0 ||
		    strcmp(r->verdict, "warn") == 0 ||
		    strcmp(r->verdict, "info") == 0);
	}
	CHECK((run = tl_run_new(0, 0)) != NULL);
	CHECK(tl_report_write_html(run, rows, n, devnull) == 0);
	tl_run_free(run);
	free(rows);
}

static void
fuzz_line_log(const uint8_t *data, size_t size)
{
	tl_offer *o = NULL;
	tl_entry *e = NULL;
	size_t n = 0, m = 0;
	tl_order_check r;
	tl_hist h;

	if (tl_report_read_line_log((const char *)data, size, &o, &n, &e,
	        &m) != 0)
		return;
	CHECK(tl_line_order_check(o, n, e, m, &r) == 0);
	CHECK(r.offers == n && r.violations <= n && r.waiting <= m);
	if (r.violations > 0) {
		CHECK(r.first_index < n);
		CHECK(o[r.first_index].seq == r.first_offer_seq);
		CHECK(r.first_waiting_seq < r.first_offer_seq);
	}
	tl_hist_init(&h);
	tl_line_return_times(o, n, &h);
	CHECK(h.count == n);
	free(o);
	free(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	/* Exactly the file's bytes, so reading past them shows. */
	CHECK((copy = malloc(size > 1 ? size - 1 : 1)) != NULL);
	memcpy(copy, data + 1, size - 1);
	if (data[0] % 3 == 0)
		fuzz_result(copy, size - 1);
	else if (data[0] % 3 == 1)
		fuzz_extra(copy, size - 1);
	else
		fuzz_line_log(copy, size - 1);
	free(copy);
	return 0;
}
