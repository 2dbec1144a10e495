"""libzmq_peer.py with security: ZAP handlers, message properties and monitor events.

Every command of libzmq_peer.py works here (security options are set with `opt`, e.g.
`opt s1 CURVE_SERVER int 1`, `opt s1 CURVE_SECRETKEY bytes HEX`), and these are added:

    zap POLICY...               bind a REP ZAP handler at inproc://zeromq.zap.01 in this
                                peer's context, answering from a thread of its own:
        allow USERID              200 with USERID to every request
        deny                      400 to every request
        status CODE               CODE (300, 500...) to every request
        plain USER PASS USERID    200 with USERID for exactly these PLAIN credentials, else 400
        curve HEXKEY USERID       200 with USERID for this CURVE client key, else 400
    zapcount                    -> ok N: how many requests the handler got
    zaplast                     -> msg FRAME...: the last request, as the REP handed it over
                                (version, request id, domain, address, identity, mechanism,
                                credentials...)
    recvmeta NAME MS PROP       -> msg VALUE FRAME... | timeout: the next message and its
                                property PROP (hex; `-` when it has none)
    monitor NAME                record NAME's monitor events from now on
    waitevent NAME EVENT MS     -> ok VALUE | timeout: wait for event EVENT (a name such as
                                HANDSHAKE_FAILED_AUTH) among those recorded, and consume it
    events NAME                 -> ok EVENT:VALUE...: the events recorded and not consumed
"""
import os
import sys
import threading
import time
import traceback

import zmq
from zmq.utils.monitor import recv_monitor_message

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libzmq_peer  # noqa: E402
from libzmq_peer import Peer, encode, encode_frame  # noqa: E402

PROPERTIES = ("User-Id", "Peer-Address", "Socket-Type")
EVENT_NAMES = {
    getattr(zmq, name): name[len("EVENT_"):]
    for name in dir(zmq)
    if name.startswith("EVENT_") and isinstance(getattr(zmq, name), int)
}


class Message(list):
    """A received message's frames, with the properties its first frame carried."""

    props = {}


def property_of(frame, name):
    try:
        return frame.get(name)
    except zmq.ZMQError:
        return None


class SecurityPeer(Peer):
    def __init__(self):
        super().__init__()
        self.zap_requests = []
        self.zap_lock = threading.Lock()
        self.monitors = {}
        self.events = {}

    # Messages keep their properties.

    def drain(self, name, sock):
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            except zmq.ZMQError as e:
                if e.errno == zmq.EFSM:
                    return
                raise
            msg = Message(f.bytes for f in frames)
            msg.props = {p: property_of(frames[0], p) for p in PROPERTIES}
            if name in self.echo:
                sock.send_multipart(list(msg))
            else:
                self.inbox[name].append(msg)

    def cmd_recvmeta(self, name, ms, prop):
        msg = self.next_message(name, int(ms))
        if msg is None:
            return "timeout"
        value = getattr(msg, "props", {}).get(prop)
        value = "-" if value is None else encode_frame(value.encode())
        return "msg " + value + " " + encode(msg)

    # ZAP.

    def cmd_zap(self, policy, *args):
        if policy == "allow":
            decide = lambda mech, creds: (b"200", args[0].encode())
        elif policy == "deny":
            decide = lambda mech, creds: (b"400", b"")
        elif policy == "status":
            decide = lambda mech, creds: (args[0].encode(), b"")
        elif policy == "plain":
            user, password, user_id = (a.encode() for a in args)
            decide = lambda mech, creds: (
                (b"200", user_id) if mech == b"PLAIN" and creds == [user, password] else (b"400", b"")
            )
        elif policy == "curve":
            key, user_id = bytes.fromhex(args[0]), args[1].encode()
            decide = lambda mech, creds: (
                (b"200", user_id) if mech == b"CURVE" and creds == [key] else (b"400", b"")
            )
        else:
            raise libzmq_peer.Failed(f"unknown ZAP policy {policy!r}")
        ready = threading.Event()
        threading.Thread(target=self.zap_handler, args=(decide, ready), daemon=True).start()
        if not ready.wait(10):
            raise libzmq_peer.Failed("the ZAP handler did not start")
        return "ok"

    def zap_handler(self, decide, ready):
        sock = self.ctx.socket(zmq.REP)
        sock.linger = 0
        sock.bind("inproc://zeromq.zap.01")
        ready.set()
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        while True:
            if not poller.poll(50):
                continue
            frames = sock.recv_multipart()
            with self.zap_lock:
                self.zap_requests.append(frames)
            version, request_id = frames[0], frames[1]
            mechanism, credentials = frames[5], frames[6:]
            status, user_id = decide(mechanism, credentials)
            sock.send_multipart([version, request_id, status, b"text", user_id, b""])

    def cmd_zapcount(self):
        with self.zap_lock:
            return f"ok {len(self.zap_requests)}"

    def cmd_zaplast(self):
        with self.zap_lock:
            if not self.zap_requests:
                return "err no ZAP request yet"
            return "msg " + encode(self.zap_requests[-1])

    # Monitor events.

    def cmd_monitor(self, name):
        self.monitors[name] = self.sockets[name].get_monitor_socket()
        self.events[name] = []
        return "ok"

    def collect(self, name):
        mon = self.monitors[name]
        while True:
            try:
                event = recv_monitor_message(mon, zmq.NOBLOCK)
            except zmq.Again:
                return
            self.events[name].append(
                (EVENT_NAMES.get(event["event"], str(event["event"])), event["value"])
            )

    def cmd_waitevent(self, name, event, ms):
        deadline = time.monotonic() + int(ms) / 1000
        while True:
            self.collect(name)
            for i, (got, value) in enumerate(self.events[name]):
                if got == event:
                    del self.events[name][i]
                    return f"ok {value}"
            if time.monotonic() > deadline:
                return "timeout"
            self.pump(10)

    def cmd_events(self, name):
        self.collect(name)
        return ("ok " + " ".join(f"{e}:{v}" for e, v in self.events[name])).rstrip()


def main():
    try:
        SecurityPeer().run()
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
