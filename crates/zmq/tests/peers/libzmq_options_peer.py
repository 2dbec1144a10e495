"""libzmq's side of the facade's option tests (pyzmq's bundled libzmq), one mode per run.

    defaults                  print `NAME VALUE` for each option's default on a DEALER
                              (and `SUB.LINGER`, `CTX.NAME` for the context's)
    validate NAME=VALUE...    print `NAME=VALUE ok` or `NAME=VALUE einval` for each setsockopt
                              of an int option on a fresh DEALER
    metadata-peer ENDPOINT    connect a DEALER with ZMQ_METADATA `X-Libzmq:from-libzmq` and
                              `X-Shared:libzmq`, send one message `ping`, wait for one back,
                              and print `prop NAME VALUE` for X-Ours, X-Other and Socket-Type
                              as zmq_msg_gets reads them on it (`prop NAME -` when absent)

Every wait is bounded (30 s); a failure prints `err REASON` and exits with status 1.
"""
import sys

import zmq

INT_OPTIONS = [
    "AFFINITY", "RATE", "RECOVERY_IVL", "SNDBUF", "RCVBUF", "LINGER", "RECONNECT_IVL",
    "BACKLOG", "RECONNECT_IVL_MAX", "MAXMSGSIZE", "SNDHWM", "RCVHWM", "MULTICAST_HOPS",
    "RCVTIMEO", "SNDTIMEO", "IPV4ONLY", "TCP_KEEPALIVE", "TCP_KEEPALIVE_CNT",
    "TCP_KEEPALIVE_IDLE", "TCP_KEEPALIVE_INTVL", "IMMEDIATE", "IPV6", "MECHANISM",
    "PLAIN_SERVER", "CURVE_SERVER", "CONFLATE", "TOS", "HANDSHAKE_IVL", "INVERT_MATCHING",
    "CONNECT_TIMEOUT", "TCP_MAXRT", "THREAD_SAFE", "MULTICAST_MAXTPDU", "USE_FD",
    "ZAP_ENFORCE_DOMAIN", "LOOPBACK_FASTPATH", "MULTICAST_LOOP", "RECONNECT_STOP",
    "RCVMORE", "TYPE",
]
BYTES_OPTIONS = ["ROUTING_ID", "LAST_ENDPOINT", "ZAP_DOMAIN", "PLAIN_USERNAME",
                 "PLAIN_PASSWORD", "BINDTODEVICE"]


def defaults():
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    for name in INT_OPTIONS:
        print(name, s.getsockopt(getattr(zmq, name)))
    for name in BYTES_OPTIONS:
        print(name, s.getsockopt(getattr(zmq, name)).hex() or "-")
    sub = ctx.socket(zmq.SUB)
    print("SUB.LINGER", sub.getsockopt(zmq.LINGER))
    for name in ("IO_THREADS", "MAX_SOCKETS", "SOCKET_LIMIT", "IPV6", "BLOCKY"):
        print("CTX." + name, ctx.get(getattr(zmq, name)))
    s.close(0)
    sub.close(0)
    ctx.term()


def validate(pairs):
    ctx = zmq.Context()
    for pair in pairs:
        name, value = pair.split("=")
        s = ctx.socket(zmq.DEALER)
        try:
            s.setsockopt(getattr(zmq, name), int(value))
            print(pair, "ok")
        except zmq.ZMQError as e:
            print(pair, "einval" if e.errno == zmq.EINVAL else "errno%d" % e.errno)
        s.close(0)
    ctx.term()


def metadata_peer(endpoint):
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 30000)
    s.setsockopt(zmq.SNDTIMEO, 30000)
    s.setsockopt(zmq.METADATA, b"X-Libzmq:from-libzmq")
    s.setsockopt(zmq.METADATA, b"X-Shared:libzmq")
    s.connect(endpoint)
    s.send(b"ping")
    try:
        frame = s.recv(copy=False)
    except zmq.Again:
        print("err no reply within 30 s")
        sys.exit(1)
    for name in ("X-Ours", "X-Other", "Socket-Type"):
        try:
            print("prop", name, frame.get(name))
        except zmq.ZMQError:
            print("prop", name, "-")
    sys.stdout.flush()
    s.close(0)
    ctx.term()


def main():
    mode = sys.argv[1]
    if mode == "defaults":
        defaults()
    elif mode == "validate":
        validate(sys.argv[2:])
    elif mode == "metadata-peer":
        metadata_peer(sys.argv[2])
    else:
        print("err unknown mode", mode)
        sys.exit(1)


if __name__ == "__main__":
    main()
