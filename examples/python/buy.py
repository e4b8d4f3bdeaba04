#!/usr/bin/env python3
"""buy: sell one ticket through a stock node from Python, with nothing of
ticketrush but proto/ticketrush.proto: the same service as examples/c/buy.c
(reserve with a request id, retried with the same id; then confirm with the
payment's reference), the proof that the .proto is the contract.

    buy.py URL EVENT USER [PAYMENT_REF]

URL is a stock node's data socket, tcp://HOST:PORT (tcp://127.0.0.1:7001).
Prints the order; exit 0 sold, 1 refused (sold out, closed, ...), 2 usage,
3 no node answered.

The messages are generated from the .proto, never committed:

    protoc --proto_path=proto --python_out=DIR proto/ticketrush.proto
    PYTHONPATH=DIR python3 examples/python/buy.py tcp://127.0.0.1:7001 E1 alice

(Debian: protobuf-compiler and python3-protobuf.)

Why this file speaks nng's wire protocol itself: the issue asks for an nng
binding from Debian's or npm's packages, and neither has one. Debian 12
packages nng only for C (libnng1, libnng-dev, nng-utils): no Python, Perl,
Node or other binding of nng (no python3-pynng). What it has for the older
nanomsg library is a Perl one, libnanomsg-raw-perl. npm has `nanomsg`
(4.2.1), a binding of that older library (native code, built by node-gyp
on install), and nothing for nng. pynng is on PyPI, not in Debian. So the
REQ side of nng's "req0" protocol over TCP is written here, from the SP
TCP mapping (sp-tcp-mapping-01) and the behaviour of nng's TCP transport
and REQ/REP protocols:

  - Connection: each side sends 8 bytes, 0x00 'S' 'P' 0x00, its protocol
    id (16 bits, big-endian; REQ v0 is 0x0030, REP v0 0x0031), two zero
    bytes; and checks the other's. nng drops a peer whose protocol is not
    the one its own pairs with; so do we.
  - Messages: a 64-bit big-endian length, then that many bytes.
  - REQ/REP: a request's body starts with a 32-bit big-endian request id
    whose top bit is set; the REP side sends it back at the head of the
    reply. A reply with another id (the late answer to a request we gave
    up on) is dropped.

Timeouts and retries are explicit and bounded: each call waits at most
TIMEOUT_S for its answer (connecting included) and is tried ATTEMPTS times,
on a new connection after any failure. A retried Reserve carries the same
request_id, so it makes no second hold; Confirm is idempotent on
(reservation_id, payment_ref). Unlike buy.c, an UNAVAILABLE or OVERLOADED
answer is retried too, after a short pause, as the .proto says it may be.
"""
import os
import re
import socket
import struct
import sys
import time

ATTEMPTS = 3
TIMEOUT_S = 2.0
PAUSE_S = 0.2  # before a retry, times the attempt number

SP_MAGIC = b"\x00SP\x00"
SP_REQ0 = 0x0030
SP_REP0 = 0x0031
# The largest message a stock node sends or accepts (TR_MSG_MAX, 1 MiB),
# plus the request id.
REPLY_MAX = 1024 * 1024 + 4
# Late replies to requests given up on, dropped before one call gives up.
STALE_MAX = 16

URL_RE = re.compile(
    r"^tcp[46]?://(\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+):([0-9]{1,5})$")


class SpError(Exception):
    """The peer broke the SP protocol (bad header, bad frame)."""


class SpReq:
    """A REQ v0 socket over one TCP connection, opened on demand and
    dropped after any failure."""

    def __init__(self, host, port, timeout_s):
        self.addr = (host, port)
        self.timeout_s = timeout_s
        self.sock = None
        # 32-bit ids with the top bit set, from a random start (as nng
        # does), so that two runs seldom share one.
        self.last_id = int.from_bytes(os.urandom(4), "big") & 0x7FFFFFFF

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def call(self, payload):
        """Send one request, return the body of its reply (bytes).
        Raises OSError (TimeoutError, ConnectionError, ...) or SpError."""
        deadline = time.monotonic() + self.timeout_s
        try:
            if self.sock is None:
                self._connect(deadline)
            self.last_id = ((self.last_id + 1) & 0x7FFFFFFF) | 0x80000000
            rid = self.last_id
            self._send(struct.pack(">QI", 4 + len(payload), rid) + payload,
                       deadline)
            for _ in range(STALE_MAX + 1):
                (n,) = struct.unpack(">Q", self._recv(8, deadline))
                if n < 4 or n > REPLY_MAX:
                    raise SpError("reply of %d bytes" % n)
                body = self._recv(n, deadline)
                if struct.unpack(">I", body[:4])[0] == rid:
                    return body[4:]
            raise SpError("%d replies to other requests" % (STALE_MAX + 1))
        except BaseException:
            self.close()
            raise

    def _connect(self, deadline):
        s = socket.create_connection(self.addr, timeout=_left(deadline))
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = s
            self._send(SP_MAGIC + struct.pack(">HH", SP_REQ0, 0), deadline)
            head = self._recv(8, deadline)
        except BaseException:
            self.close()
            raise
        if head[:4] != SP_MAGIC or head[6:] != b"\x00\x00":
            raise SpError("not an SP peer (header %s)" % head.hex())
        (peer,) = struct.unpack(">H", head[4:6])
        if peer != SP_REP0:
            raise SpError("peer speaks SP protocol 0x%04x, not REP v0" % peer)

    def _send(self, data, deadline):
        self.sock.settimeout(_left(deadline))
        self.sock.sendall(data)

    def _recv(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:  # each turn reads at least a byte or raises
            self.sock.settimeout(_left(deadline))
            chunk = self.sock.recv(min(n - len(buf), 65536))
            if not chunk:
                raise ConnectionResetError("the node closed the connection")
            buf += chunk
        return bytes(buf)


def _left(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def status_name(pb, status):
    """STATUS_SOLD_OUT -> sold_out: the names ticketrush's tools print."""
    try:
        return pb.Status.Name(status)[len("STATUS_"):].lower()
    except ValueError:
        return "status %d" % status


def call(pb, req_sp, request):
    """One operation, tried ATTEMPTS times. Returns (reply, why): reply is
    None when no node answered, why says what failed last."""
    request.version = pb.PROTOCOL_VERSION_1
    payload = request.SerializeToString()
    retry_on = (pb.STATUS_UNAVAILABLE, pb.STATUS_OVERLOADED)
    reply, why = None, ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(PAUSE_S * attempt)
        try:
            body = req_sp.call(payload)
        except (OSError, SpError) as e:
            reply, why = None, str(e) or type(e).__name__
            continue
        reply = pb.Reply()
        try:
            reply.ParseFromString(body)
        except Exception as e:  # google.protobuf.message.DecodeError
            reply, why = None, "protocol_error: %s" % e
            continue
        if reply.status == pb.STATUS_UNSPECIFIED:
            reply, why = None, "protocol_error: a reply without a status"
            continue
        if reply.status not in retry_on:
            break
        why = status_name(pb, reply.status)
    return reply, why


def refused(pb, what, reply):
    print("buy: %s refused: %s%s" % (
        what, status_name(pb, reply.status),
        ": " + reply.detail if reply.detail else ""), file=sys.stderr)
    return 1


def main(argv):
    if len(argv) not in (4, 5):
        print("usage: buy.py URL EVENT USER [PAYMENT_REF]", file=sys.stderr)
        return 2
    url, event, user = argv[1:4]
    ref = argv[4] if len(argv) == 5 else "PAY-example"
    m = URL_RE.match(url)
    if m is None or not 0 < int(m.group(2)) < 65536:
        print("buy: bad URL %s (this example speaks SP over TCP only: "
              "tcp://HOST:PORT)" % url, file=sys.stderr)
        return 2
    host = m.group(1).strip("[]")
    try:
        import ticketrush_pb2 as pb
    except ImportError as e:
        print("buy: cannot import the messages (%s): generate them with "
              "protoc --proto_path=proto --python_out=DIR "
              "proto/ticketrush.proto, put DIR on PYTHONPATH; needs "
              "python3-protobuf" % e, file=sys.stderr)
        return 2

    sp = SpReq(host, int(m.group(2)), TIMEOUT_S)
    try:
        req = pb.Request()
        req.reserve.event_id = event
        req.reserve.user_id = user
        req.reserve.qty = 1
        # A retried call must make no second hold: the same request id.
        req.reserve.request_id = "buy-" + user
        reply, why = call(pb, sp, req)
        if reply is None:
            print("buy: no answer from %s: %s" % (url, why), file=sys.stderr)
            return 3
        if reply.status != pb.STATUS_OK:
            return refused(pb, "reservation", reply)
        hold = reply.hold
        print("reserved %s until %d (unix ms)" % (hold.reservation_id,
                                                  hold.expires_at_ms))
        sys.stdout.flush()

        # Confirming is idempotent on the reservation id.
        req = pb.Request()
        req.confirm.reservation_id = hold.reservation_id
        req.confirm.user_id = user
        req.confirm.payment_ref = ref
        reply, why = call(pb, sp, req)
        if reply is None:
            print("buy: no answer to the confirm: %s; the hold stays until "
                  "it expires" % why, file=sys.stderr)
            return 3
        if reply.status != pb.STATUS_OK:
            return refused(pb, "confirm", reply)
        o = reply.order
        print("order %s: %d ticket(s) of %s for %s, paid %s" % (
            o.order_id, o.qty, o.event_id, o.user_id, o.payment_ref))
        return 0
    finally:
        sp.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
