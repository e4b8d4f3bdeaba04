/* dashboard: the gateway's live page (GET /dashboard). The page is
 * gateway/dashboard.html, embedded at build time; this fills in the event
 * it shows. Pure: no I/O. */
#ifndef TR_DASHBOARD_H
#define TR_DASHBOARD_H

#include <stddef.h>

/* The bytes tr_dashboard_render writes for event_id (NUL excluded). */
size_t tr_dashboard_size(const char *event_id);

/* The page for event_id (a valid event id) into buf: every "@EVENT@" of
 * the template replaced by it. Returns the length, or 0 (buf untouched)
 * if the id is not valid or buf is shorter than tr_dashboard_size + 1. */
size_t tr_dashboard_render(char *buf, size_t cap, const char *event_id);

/* The template itself, as embedded. */
extern const char tr_dashboard_html[];

#endif
