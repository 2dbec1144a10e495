"""libzmq monitoring its own sockets (pyzmq's bundled libzmq), for `tests/monitor.rs`.

    libzmq_monitor.py SCENARIO TRANSPORT DIR

runs one scenario over `tcp` or `ipc` (ipc paths go in DIR) and prints, for every event
of every monitored socket, one line:

    SIDE EVENT VALUE ENDPOINT FRAME0_HEX FRAME1_HEX

EVENT and VALUE in decimal, ENDPOINT as `-` when empty, then the two raw frames the monitor
PAIR received, in hex (`-` for an empty frame), so the Rust side can parse libzmq's own
bytes. Each monitored socket is closed at the end of the scenario and its events are read
up to MONITOR_STOPPED; the line `done` ends the output.

Scenarios, each side a DEALER unless said (LINGER 0, RECONNECT_IVL as said):
    lifecycle   server binds, client connects, one message each way, the client closes,
                then (once the server saw DISCONNECTED) the server closes
    refused     client connects to nothing (RECONNECT_IVL 100 ms) for 0.35 s
    bindfail    tcp: binding a port already bound; ipc: a path in a missing directory
    mismatch    PLAIN server, NULL client
    curvekey    CURVE client with a wrong server key
    zapdeny     CURVE with the right keys; the ZAP handler answers 400
    midclose    a raw TCP/ipc client sends half a greeting and closes (server only)
"""
import os
import socket
import sys
import threading
import time

import zmq

ctx = zmq.Context()
counter = [0]
monitors = []


def monitored(sock, side):
    counter[0] += 1
    name = "inproc://monitor-%d" % counter[0]
    sock.monitor(name, zmq.EVENT_ALL)
    pair = ctx.socket(zmq.PAIR)
    pair.connect(name)
    monitors.append((side, pair))
    return sock


def new(kind, side, ivl=100):
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RECONNECT_IVL, ivl)
    return monitored(s, side)


def hexframe(f):
    return f.hex() if f else "-"


def read_until(pair, side, stop, timeout=5.0):
    """Prints events of one monitor until `stop(event)` or the timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not pair.poll(50):
            continue
        frames = pair.recv_multipart()
        event = int.from_bytes(frames[0][:2], sys.byteorder)
        value = int.from_bytes(frames[0][2:6], sys.byteorder)
        endpoint = frames[1].decode() or "-"
        print(side, event, value, endpoint, hexframe(frames[0]), hexframe(frames[1]), flush=True)
        if stop(event):
            return True
    return False


def finish():
    for side, pair in monitors:
        read_until(pair, side, lambda e: e == zmq.EVENT_MONITOR_STOPPED)
    print("done", flush=True)


def endpoint(transport, directory, name):
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    return "ipc://" + os.path.join(directory, name)


def main():
    scenario, transport, directory = sys.argv[1:4]
    if scenario == "lifecycle":
        server = new(zmq.DEALER, "server")
        server.bind(endpoint(transport, directory, "lifecycle.sock"))
        client = new(zmq.DEALER, "client")
        client.connect(server.last_endpoint.decode())
        client.send(b"ping")
        assert server.poll(10000)
        server.recv()
        server.send(b"pong")
        assert client.poll(10000)
        client.recv()
        client.close()
        # The server's events so far, up to the client's disconnection.
        pair = monitors[0][1]
        read_until(pair, "server", lambda e: e == zmq.EVENT_DISCONNECTED)
        server.close()
    elif scenario == "refused":
        client = new(zmq.DEALER, "client")
        target = "tcp://127.0.0.1:1" if transport == "tcp" else endpoint(
            transport, directory, "nobody.sock")
        client.connect(target)
        time.sleep(0.35)
        client.close()
    elif scenario == "bindfail":
        if transport == "tcp":
            holder = ctx.socket(zmq.DEALER)
            holder.setsockopt(zmq.LINGER, 0)
            holder.bind("tcp://127.0.0.1:*")
            target = holder.last_endpoint.decode()
        else:
            target = "ipc://" + os.path.join(directory, "missing", "x.sock")
        s = new(zmq.DEALER, "server")
        try:
            s.bind(target)
            raise SystemExit("the bind should fail")
        except zmq.ZMQError:
            pass
        s.close()
    elif scenario in ("mismatch", "curvekey", "zapdeny"):
        server = new(zmq.DEALER, "server", ivl=10000)
        client = new(zmq.DEALER, "client", ivl=10000)
        if scenario == "mismatch":
            server.setsockopt(zmq.PLAIN_SERVER, 1)
        else:
            spub, ssec = zmq.curve_keypair()
            cpub, csec = zmq.curve_keypair()
            wrong, _ = zmq.curve_keypair()
            server.setsockopt(zmq.CURVE_SERVER, 1)
            server.setsockopt(zmq.CURVE_SECRETKEY, ssec)
            client.setsockopt(zmq.CURVE_SERVERKEY, wrong if scenario == "curvekey" else spub)
            client.setsockopt(zmq.CURVE_PUBLICKEY, cpub)
            client.setsockopt(zmq.CURVE_SECRETKEY, csec)
        if scenario == "zapdeny":
            zap = ctx.socket(zmq.REP)
            zap.setsockopt(zmq.LINGER, 0)
            zap.bind("inproc://zeromq.zap.01")

            def handler():
                while True:
                    try:
                        request = zap.recv_multipart()
                        zap.send_multipart([b"1.0", request[1], b"400", b"denied", b"", b""])
                    except zmq.ZMQError:
                        return

            threading.Thread(target=handler, daemon=True).start()
        server.bind(endpoint(transport, directory, scenario + ".sock"))
        client.connect(server.last_endpoint.decode())
        # Both sides see the failure, then the server closes.
        read_until(monitors[1][1], "client", lambda e: e == zmq.EVENT_DISCONNECTED)
        read_until(monitors[0][1], "server", lambda e: e == zmq.EVENT_DISCONNECTED)
        client.close()
        server.close()
    elif scenario == "midclose":
        server = new(zmq.DEALER, "server")
        server.bind(endpoint(transport, directory, "midclose.sock"))
        where = server.last_endpoint.decode()
        if transport == "tcp":
            raw = socket.create_connection(("127.0.0.1", int(where.rsplit(":", 1)[1])))
        else:
            raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            raw.connect(where[len("ipc://"):])
        # Half a greeting: the signature and the major version.
        raw.sendall(b"\xff" + b"\x00" * 8 + b"\x7f\x03")
        read_until(monitors[0][1], "server", lambda e: e == zmq.EVENT_ACCEPTED)
        time.sleep(0.2)
        raw.close()
        read_until(monitors[0][1], "server", lambda e: e == zmq.EVENT_DISCONNECTED)
        server.close()
    else:
        raise SystemExit("unknown scenario " + scenario)
    finish()


main()
