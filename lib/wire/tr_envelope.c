/* tr_envelope: pack and unpack the wire envelopes. */
#include "tr_envelope.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tr_err.h"

Ticketrush__Request *
tr_request_unpack(const void *buf, size_t len)
{
	if (len > TR_MSG_MAX)
		return NULL;
	return ticketrush__request__unpack(NULL, len, buf);
}

/* Protobuf wire format: a key (varint: field << 3 | type), then a varint
 * (type 0), 8 bytes (1), a length and that many bytes (2), or 4 bytes (5).
 */
static bool
read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return true;
	}
	return false;
}

/* Walk the fields of [p, end); for each length-delimited field `want`,
 * call fn on its contents. Returns false on malformed bytes. */
static bool
walk(const uint8_t *p, const uint8_t *end, uint64_t want,
    bool (*fn)(const uint8_t *, const uint8_t *, void *), void *arg)
{
	while (p < end) {
		uint64_t key, n;
		if (!read_varint(&p, end, &key))
			return false;
		switch (key & 7) {
		case 0:
			if (!read_varint(&p, end, &n))
				return false;
			break;
		case 1:
			if (end - p < 8)
				return false;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return false;
			p += 4;
			break;
		case 2:
			if (!read_varint(&p, end, &n) ||
			    n > (uint64_t)(end - p))
				return false;
			if ((key >> 3) == want && !fn(p, p + n, arg))
				return false;
			p += n;
			break;
		default: return false;
		}
	}
	return true;
}

static bool
count_op(const uint8_t *p, const uint8_t *end, void *arg)
{
	(void)p;
	(void)end;
	(*(size_t *)arg)++;
	return true;
}

/* A Batch (repeated: protobuf merges them, so all count). */
static bool
count_batch_ops(const uint8_t *p, const uint8_t *end, void *arg)
{
	return walk(p, end, 1 /* Batch.ops */, count_op, arg);
}

int
tr_wire_batch_ops(const void *buf, size_t len, size_t *ops)
{
	const uint8_t *p = buf;
	*ops = 0;
	return walk(p, p + len, 14 /* Request.batch */, count_batch_ops, ops)
	    ? 0
	    : TR_EPROTO;
}

void
tr_request_free(Ticketrush__Request *req)
{
	if (req != NULL)
		ticketrush__request__free_unpacked(req, NULL);
}

Ticketrush__Reply *
tr_reply_unpack(const void *buf, size_t len)
{
	if (len > TR_MSG_MAX)
		return NULL;
	return ticketrush__reply__unpack(NULL, len, buf);
}

void
tr_reply_free(Ticketrush__Reply *rep)
{
	if (rep != NULL)
		ticketrush__reply__free_unpacked(rep, NULL);
}

int
tr_msg_pack(const ProtobufCMessage *m, nng_msg **out)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	nng_msg *msg;

	if (nng_msg_alloc(&msg, len) != 0)
		return TR_ENOMEM;
	protobuf_c_message_pack(m, nng_msg_body(msg));
	*out = msg;
	return 0;
}

void
tr_reply_set(Ticketrush__Reply *r, int err, const char *detail)
{
	r->version = TR_PROTOCOL_VERSION;
	r->status = (Ticketrush__Status)tr_err_to_status(err);
	r->detail = (char *)(detail ? detail : "");
}

int
tr_err_to_status(int err)
{
	if (err == TR_OK)
		return TICKETRUSH__STATUS__STATUS_OK;
	if (err <= TR_ESOLD_OUT && err >= TR_EWAITLIST_FULL)
		return -err;
	switch (err) {
	case TR_ETIMEDOUT:
	case TR_EIO:
	case TR_EFENCED: return TICKETRUSH__STATUS__STATUS_UNAVAILABLE;
	case TR_EPROTO: return TICKETRUSH__STATUS__STATUS_INVALID;
	case TR_EEMPTY: return TICKETRUSH__STATUS__STATUS_SOLD_OUT;
	case TR_ECLOSED: return TICKETRUSH__STATUS__STATUS_CLOSED;
	default: return TICKETRUSH__STATUS__STATUS_INTERNAL;
	}
}

int
tr_err_from_status(int status)
{
	if (status == TICKETRUSH__STATUS__STATUS_OK)
		return TR_OK;
	if (status >= -TR_ESOLD_OUT && status <= -TR_EWAITLIST_FULL)
		return -status;
	if (status == TICKETRUSH__STATUS__STATUS_CLOSED)
		return TR_ECLOSED;
	return TR_EPROTO;
}
