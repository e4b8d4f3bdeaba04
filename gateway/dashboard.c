/* dashboard: the live page with its event filled in. */
#include "dashboard.h"

#include <string.h>

#include "tr_ids.h"

#define MARK "@EVENT@"
#define MARK_LEN (sizeof(MARK) - 1)

static size_t
marks(void)
{
	size_t n = 0;
	for (const char *p = tr_dashboard_html; (p = strstr(p, MARK)) != NULL;
	     p += MARK_LEN)
		n++;
	return n;
}

size_t
tr_dashboard_size(const char *event_id)
{
	/* An id is at most 64 bytes and the marks a handful: no overflow. */
	return strlen(tr_dashboard_html) - marks() * MARK_LEN +
	    marks() * strlen(event_id);
}

size_t
tr_dashboard_render(char *buf, size_t cap, const char *event_id)
{
	const char *p = tr_dashboard_html, *m;
	size_t len = 0, id_len;

	/* The id goes into HTML text and an attribute unescaped: only the
	 * valid shape, which has nothing to escape, is let in. */
	if (!tr_event_id_valid(event_id) ||
	    cap < tr_dashboard_size(event_id) + 1)
		return 0;
	id_len = strlen(event_id);
	while ((m = strstr(p, MARK)) != NULL) {
		memcpy(buf + len, p, (size_t)(m - p));
		len += (size_t)(m - p);
		memcpy(buf + len, event_id, id_len);
		len += id_len;
		p = m + MARK_LEN;
	}
	memcpy(buf + len, p, strlen(p) + 1);
	return len + strlen(p);
}
