/* tr_envelope: pack and unpack the wire envelopes. */
#include "tr_envelope.h"

#include <string.h>

#include "tr_err.h"

Ticketrush__Request *
tr_request_unpack(const void *buf, size_t len)
{
	if (len > TR_MSG_MAX)
		return NULL;
	return ticketrush__request__unpack(NULL, len, buf);
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
