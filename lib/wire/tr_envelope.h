/* tr_envelope: protobuf Request/Reply envelopes carried in nng messages. */
#ifndef TR_ENVELOPE_H
#define TR_ENVELOPE_H

#include <nng/nng.h>
#include <stddef.h>

#include "ticketrush.pb-c.h"

#define TR_PROTOCOL_VERSION 1
/* Largest message either side accepts (a full Batch fits easily). */
#define TR_MSG_MAX (1024 * 1024)
/* Most operations in one Batch that any node accepts; nodes may set less. */
#define TR_BATCH_MAX_LIMIT 1024

/* Unpack a Request. Returns NULL for bytes that are not one (garbage,
 * truncated, oversized). Free with tr_request_free. */
Ticketrush__Request *tr_request_unpack(const void *buf, size_t len);
void tr_request_free(Ticketrush__Request *req);

/* Count the operations of a Batch in a serialized Request without
 * unpacking it (unpacking allocates per operation: a 1 MiB batch of empty
 * operations would be half a million allocations before its size could be
 * refused). Returns 0 and the count (0 when the Request has no Batch), or
 * TR_EPROTO for bytes that are not protobuf. Pure. */
int tr_wire_batch_ops(const void *buf, size_t len, size_t *ops);

/* Unpack a Reply; NULL if malformed. Free with tr_reply_free. */
Ticketrush__Reply *tr_reply_unpack(const void *buf, size_t len);
void tr_reply_free(Ticketrush__Reply *rep);

/* Serialize any protobuf-c message into a new nng message. 0 or TR_ENOMEM
 * (nothing allocated). */
int tr_msg_pack(const ProtobufCMessage *m, nng_msg **out);

/* The wire Status (proto enum value) for an error code. */
int tr_err_to_status(int err);

/* The error code for a wire Status; unknown statuses map to TR_EPROTO. */
int tr_err_from_status(int status);

/* Set a reply's version, status from an error code, and detail (which must
 * outlive the pack; may be NULL). */
void tr_reply_set(Ticketrush__Reply *r, int err, const char *detail);

#endif
