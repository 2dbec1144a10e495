"""A scriptable libzmq peer (pyzmq's bundled libzmq) for the `zmq` facade's interop tests.

The Rust test drives it over stdin/stdout: one command per line in, one reply line out.
Frames are written in hex, `-` standing for an empty frame and `@PATH` for a frame over
64 KiB written to a file (which the reader removes). Replies start with `ok`, `msg`
(a received message), `timeout`, or `err` followed by the reason.

    new NAME TYPE                       create a socket (LINGER 0, SNDTIMEO 10 s; ROUTERs are
                                        ROUTER_MANDATORY so an unroutable send is an error)
    opt NAME OPTION int N | bytes HEX   setsockopt (OPTION as named in pyzmq, e.g. ROUTING_ID)
    bind NAME ENDPOINT                  -> ok LAST_ENDPOINT
    connect NAME ENDPOINT
    close NAME
    send NAME FRAME...                  send one multipart message (blocking, at most 10 s)
    sendretry NAME MS FRAME...          send, retrying EHOSTUNREACH (a ROUTER whose peer is not
                                        connected yet) for up to MS
    recv NAME MS                        -> msg FRAME... | timeout
    echo NAME on|off                    send back every message received on NAME, as received
    sendseq NAME COUNT PREFIX FRAME...  start sending COUNT messages FRAME... + PREFIX<i> in the
                                        background (as the socket accepts them); -> ok at once
    sentwait NAME MS                    wait until that sequence is out
    expectseq NAME COUNT PREFIX MS      wait for COUNT messages ENV... + PREFIX<i>, in order and
                                        with one envelope ENV -> ok ENV...
    rtloop NAME COUNT PREFIX WINDOW MS FRAME...
                                        round trips: send FRAME... + PREFIX<i> with at most
                                        WINDOW outstanding, expect each back unchanged, in order
    proxy FTYPE FENDPOINT BTYPE BENDPOINT
                                        bind two sockets in a thread running zmq.proxy
                                        -> ok FRONT_LAST_ENDPOINT BACK_LAST_ENDPOINT

While it waits for the next command, and while it runs one, it keeps every socket busy in a
poll loop: libzmq attaches a new peer only when the application calls into the socket.
Messages that arrive are queued here until a command asks for them. The process exits at
once when stdin closes.
"""
import collections
import itertools
import os
import queue
import tempfile
import sys
import threading
import time
import traceback

import zmq

TYPES = {
    name: getattr(zmq, name)
    for name in ("PAIR", "REQ", "REP", "DEALER", "ROUTER", "PUSH", "PULL", "PUB", "SUB",
                 "XPUB", "XSUB", "STREAM")
}


class Failed(Exception):
    pass


FILE_FRAME = 64 * 1024
file_frames = itertools.count()


def encode_frame(frame):
    if not frame:
        return "-"
    if len(frame) > FILE_FRAME:
        path = os.path.join(
            tempfile.gettempdir(), f"zmq-peer-frame-{os.getpid()}-{next(file_frames)}.bin"
        )
        with open(path, "wb") as f:
            f.write(frame)
        return "@" + path
    return frame.hex()


def decode_frame(token):
    if token == "-":
        return b""
    if token.startswith("@"):
        with open(token[1:], "rb") as f:
            frame = f.read()
        os.unlink(token[1:])
        return frame
    return bytes.fromhex(token)


def encode(frames):
    return " ".join(encode_frame(f) for f in frames)


def decode(tokens):
    return [decode_frame(t) for t in tokens]


class Sequence:
    def __init__(self, count, prefix, envelope):
        self.messages = (envelope + [prefix + str(i).encode()] for i in range(count))
        self.pending = None
        self.error = None


class Peer:
    def __init__(self):
        self.ctx = zmq.Context()
        self.sockets = {}
        self.inbox = {}
        self.echo = set()
        self.outgoing = {}
        self.finished = {}
        self.flags = {}
        self.poller = zmq.Poller()
        self.poller.register(0, zmq.POLLIN)
        self.stdin_open = True
        self.input = bytearray()
        self.lines = collections.deque()

    # The poll loop.

    def pump(self, timeout_ms):
        for name, sock in self.sockets.items():
            flags = zmq.POLLIN | (zmq.POLLOUT if name in self.outgoing else 0)
            if self.flags.get(name) != flags:
                self.poller.register(sock, flags)
                self.flags[name] = flags
        events = dict(self.poller.poll(max(0, int(timeout_ms))))
        if events.get(0):
            data = os.read(0, 1 << 20)
            if data:
                self.input += data
                while True:
                    end = self.input.find(b"\n")
                    if end < 0:
                        break
                    self.lines.append(self.input[:end].decode())
                    del self.input[:end + 1]
            else:
                self.stdin_open = False
                self.poller.unregister(0)
        for name, sock in list(self.sockets.items()):
            if events.get(sock, 0) & zmq.POLLIN:
                self.drain(name, sock)
            if name in self.outgoing:
                self.push(name, sock)

    def drain(self, name, sock):
        while True:
            try:
                msg = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except zmq.ZMQError as e:
                if e.errno == zmq.EFSM:
                    return
                raise
            if name in self.echo:
                sock.send_multipart(msg)
            else:
                self.inbox[name].append(msg)

    def push(self, name, sock):
        seq = self.outgoing[name]
        while True:
            if seq.pending is None:
                seq.pending = next(seq.messages, None)
                if seq.pending is None:
                    self.finished[name] = self.outgoing.pop(name)
                    return
            try:
                sock.send_multipart(seq.pending, zmq.NOBLOCK)
            except zmq.Again:
                return
            except zmq.ZMQError as e:
                seq.error = f"{e.errno} {e}"
                self.finished[name] = self.outgoing.pop(name)
                return
            seq.pending = None

    def wait(self, done, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pump(left * 1000 + 1)
        return True

    def next_message(self, name, timeout_ms):
        if not self.wait(lambda: self.inbox[name], timeout_ms):
            return None
        return self.inbox[name].popleft()

    # Commands.

    def cmd_new(self, name, kind):
        sock = self.ctx.socket(TYPES[kind])
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDTIMEO, 10000)
        if kind == "ROUTER":
            sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.sockets[name] = sock
        self.inbox[name] = collections.deque()
        return "ok"

    def cmd_opt(self, name, option, kind, value):
        value = int(value) if kind == "int" else bytes.fromhex(value)
        self.sockets[name].setsockopt(getattr(zmq, option), value)
        return "ok"

    def cmd_bind(self, name, endpoint):
        sock = self.sockets[name]
        sock.bind(endpoint)
        return "ok " + sock.getsockopt_string(zmq.LAST_ENDPOINT)

    def cmd_connect(self, name, endpoint):
        self.sockets[name].connect(endpoint)
        return "ok"

    def cmd_close(self, name):
        sock = self.sockets.pop(name)
        self.poller.unregister(sock)
        self.flags.pop(name, None)
        self.echo.discard(name)
        self.outgoing.pop(name, None)
        sock.close(0)
        return "ok"

    def cmd_send(self, name, *frames):
        self.sockets[name].send_multipart(decode(frames))
        return "ok"

    def cmd_sendretry(self, name, ms, *frames):
        deadline = time.monotonic() + int(ms) / 1000
        while True:
            try:
                self.sockets[name].send_multipart(decode(frames))
                return "ok"
            except zmq.ZMQError as e:
                if e.errno != zmq.EHOSTUNREACH or time.monotonic() > deadline:
                    raise
            self.pump(10)

    def cmd_recv(self, name, ms):
        msg = self.next_message(name, int(ms))
        return "timeout" if msg is None else "msg " + encode(msg)

    def cmd_echo(self, name, state):
        if state == "on":
            self.echo.add(name)
            # Answer what arrived before.
            while self.inbox[name]:
                self.sockets[name].send_multipart(self.inbox[name].popleft())
        else:
            self.echo.discard(name)
        return "ok"

    def cmd_sendseq(self, name, count, prefix, *frames):
        self.outgoing[name] = Sequence(int(count), prefix.encode(), decode(frames))
        self.finished.pop(name, None)
        self.push(name, self.sockets[name])
        return "ok"

    def cmd_sentwait(self, name, ms):
        if not self.wait(lambda: name not in self.outgoing, int(ms)):
            return "err the sequence is still being sent"
        seq = self.finished.pop(name)
        return "ok" if seq.error is None else "err sending failed: " + seq.error

    def cmd_expectseq(self, name, count, prefix, ms):
        count = int(count)
        inbox = self.inbox[name]
        if not self.wait(lambda: len(inbox) >= count, int(ms)):
            return f"err only {len(inbox)} of {count} messages arrived"
        envelope = None
        for i in range(count):
            msg = inbox.popleft()
            want = prefix.encode() + str(i).encode()
            if msg[-1] != want:
                return f"err message {i} is {encode(msg)}, expected body {want.hex()}"
            if envelope is None:
                envelope = msg[:-1]
            elif msg[:-1] != envelope:
                return f"err message {i} has envelope {encode(msg[:-1])}"
        return ("ok " + encode(envelope)).rstrip()

    def cmd_rtloop(self, name, count, prefix, window, ms, *frames):
        sock = self.sockets[name]
        envelope = decode(frames)
        count, window = int(count), int(window)
        deadline = time.monotonic() + int(ms) / 1000
        sent = received = 0
        while received < count:
            while sent < count and sent - received < window:
                sock.send_multipart(envelope + [prefix.encode() + str(sent).encode()])
                sent += 1
            left = (deadline - time.monotonic()) * 1000
            msg = self.next_message(name, left)
            if msg is None:
                return f"err reply {received} of {count} did not arrive"
            want = envelope + [prefix.encode() + str(received).encode()]
            if msg != want:
                return f"err reply {received} is {encode(msg)}, expected {encode(want)}"
            received += 1
        return "ok"

    def cmd_proxy(self, ftype, fendpoint, btype, bendpoint):
        ready = queue.Queue()

        def run():
            try:
                front = self.ctx.socket(TYPES[ftype])
                back = self.ctx.socket(TYPES[btype])
                front.bind(fendpoint)
                back.bind(bendpoint)
                ready.put(
                    "ok "
                    + front.getsockopt_string(zmq.LAST_ENDPOINT)
                    + " "
                    + back.getsockopt_string(zmq.LAST_ENDPOINT)
                )
            except Exception as e:  # reported to the test
                ready.put(f"err {type(e).__name__}: {e}")
                return
            zmq.proxy(front, back)

        threading.Thread(target=run, daemon=True).start()
        return ready.get(timeout=10)

    def run(self):
        while True:
            while not self.lines:
                if not self.stdin_open:
                    return
                self.pump(1000)
            words = self.lines.popleft().split()
            handler = getattr(self, "cmd_" + words[0], None)
            try:
                if handler is None:
                    raise Failed(f"unknown command {words[0]!r}")
                reply = handler(*words[1:])
            except Exception as e:  # every failure is reported to the test
                reply = f"err {type(e).__name__}: {e}".replace("\n", " ")
            sys.stdout.write(reply + "\n")
            sys.stdout.flush()


def main():
    try:
        Peer().run()
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # Sockets may still be in use by a proxy thread: leave without terminating.
        os._exit(0)


if __name__ == "__main__":
    main()
