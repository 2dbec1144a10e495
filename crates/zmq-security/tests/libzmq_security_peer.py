"""A libzmq peer (through pyzmq, which bundles libzmq with CURVE) for the security interop
tests of zmq-security.

Usage: libzmq_security_peer.py SCENARIO [ARGS...]

Bound scenarios print the port they listen on as the first line of stdout, then serve
until stdin closes. Connecting scenarios take the port to connect to, and print one line
of result ("ok ..." or "fail ...") when done.

Scenarios:
  curve-rep SECRET ZAP          REP, CURVE server. ZAP: none | allow:CLIENTPUB | deny.
                                Replies to [f...] with [b"user:" + User-Id, b"reply:" + f...].
  plain-rep                     REP, PLAIN server, with a ZAP handler that allows
                                admin/secret as user id "admin-id" and answers 400 otherwise.
  curve-dealer PORT SERVERPUB   DEALER, CURVE client: sends [b"ping", b"two"], expects
                                [b"echo:ping", b"echo:two"], then sends [b"got", reply...];
                                prints "ok ..." or, if the handshake fails first, the
                                monitor event as "event 0xEVENT VALUE".
  plain-dealer PORT USER PASS   DEALER, PLAIN client: the same exchange.
"""
import sys
import threading

import zmq
from zmq.utils import z85
from zmq.utils.monitor import recv_monitor_message


def zap_handler(ctx, decide, ready):
    """Serves inproc://zeromq.zap.01; decide(mechanism, credentials) -> (status, user_id)."""
    sock = ctx.socket(zmq.REP)
    sock.linger = 0
    sock.bind("inproc://zeromq.zap.01")
    ready.set()
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    while True:
        try:
            if not poller.poll(50):
                continue
            frames = sock.recv_multipart()
        except zmq.ContextTerminated:
            break
        version, request_id, domain, address, identity, mechanism = frames[:6]
        credentials = frames[6:]
        status, user_id = decide(mechanism, credentials)
        sock.send_multipart([version, request_id, status, b"text", user_id, b""])
    sock.close(0)


def serve_rep(ctx, sock, done):
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    while not done.is_set():
        if poller.poll(50):
            frames = sock.recv_multipart(copy=False)
            try:
                user = frames[0].get("User-Id") or ""
            except zmq.ZMQError:
                user = "(none)"
            sock.send_multipart([b"user:" + user.encode()] + [b"reply:" + f.bytes for f in frames])


def main():
    scenario = sys.argv[1]
    ctx = zmq.Context()
    ctx.setsockopt(zmq.LINGER, 0)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()

    if scenario in ("curve-rep", "plain-rep"):
        if scenario == "curve-rep":
            secret, zap = sys.argv[2].encode(), sys.argv[3]
            if zap.startswith("allow:"):
                allowed = z85.decode(zap[len("allow:"):].encode())
                decide = lambda m, c: (b"200", b"curve-user") if c == [allowed] else (b"400", b"")
            elif zap == "deny":
                decide = lambda m, c: (b"400", b"")
            else:
                decide = None
        else:
            decide = lambda m, c: (b"200", b"admin-id") if c == [b"admin", b"secret"] else (b"400", b"")
        if decide is not None:
            ready = threading.Event()
            threading.Thread(target=zap_handler, args=(ctx, decide, ready), daemon=True).start()
            ready.wait()
        sock = ctx.socket(zmq.REP)
        if scenario == "curve-rep":
            sock.curve_server = True
            sock.curve_secretkey = secret
        else:
            sock.plain_server = True
        sock.zap_domain = b"test"
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        print(port, flush=True)
        serve_rep(ctx, sock, done)
        sock.close(0)
    elif scenario in ("curve-dealer", "plain-dealer"):
        port = sys.argv[2]
        sock = ctx.socket(zmq.DEALER)
        if scenario == "curve-dealer":
            public, secret = zmq.curve_keypair()
            sock.curve_serverkey = sys.argv[3].encode()
            sock.curve_publickey = public
            sock.curve_secretkey = secret
        else:
            sock.plain_username = sys.argv[3].encode()
            sock.plain_password = sys.argv[4].encode()
        sock.routing_id = b"libzmq-dealer"
        monitor = sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
        )
        sock.connect(f"tcp://127.0.0.1:{port}")
        sock.send_multipart([b"ping", b"two"])
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(monitor, zmq.POLLIN)
        result = "fail no reply"
        for _ in range(100):
            ready = dict(poller.poll(100))
            if monitor in ready:
                event = recv_monitor_message(monitor)
                result = "event 0x%x %d" % (event["event"], event["value"])
                break
            if sock in ready:
                reply = sock.recv_multipart()
                ok = reply == [b"echo:ping", b"echo:two"]
                sock.send_multipart([b"got"] + reply)
                result = ("ok " if ok else "fail ") + repr(reply)
                break
        print(result, flush=True)
        if result.startswith("ok"):
            done.wait(10)
        monitor.close(0)
        sock.close(0)
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    ctx.term()


if __name__ == "__main__":
    main()
