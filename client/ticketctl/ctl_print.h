/* ctl_print: how ticketctl shows replies: human text or JSON (cJSON). */
#ifndef TR_CTL_PRINT_H
#define TR_CTL_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "ticketrush.pb-c.h"
#include "tr_coord.h"

/* A reply as a JSON object: {"status": "ok", "detail": ..., "hold": {...},
 * "order": {...}, "event": {...}, "events": [...], "node": {...}}. The
 * caller frees it with cJSON_Delete. */
cJSON *ctl_reply_json(const Ticketrush__Reply *r);

/* A reply as human-readable lines on f. */
void ctl_reply_print(FILE *f, const Ticketrush__Reply *r);

/* Unix ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 32 bytes). */
const char *ctl_time(char *buf, int64_t unix_ms);

/* One audit check result. */
typedef struct ctl_check {
	const char *name;
	bool ok;
	char detail[160];
} ctl_check;

/* Run every audit check on a ledger snapshot; returns how many failed.
 * checks must hold at least CTL_AUDIT_CHECKS entries; *count is set. */
#define CTL_AUDIT_CHECKS 16
int ctl_audit_checks(const tr_audit *a, ctl_check *checks, int *count);

#endif
