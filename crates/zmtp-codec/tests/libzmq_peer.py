"""A libzmq peer (through pyzmq) for the codec's interop tests.

Usage: libzmq_peer.py SCENARIO [PORT]

Bound scenarios print the port they listen on as the first line of stdout, then serve
until stdin closes. Connecting scenarios take the port to connect to.
"""
import sys
import threading

import zmq


def main():
    scenario = sys.argv[1]
    ctx = zmq.Context()
    # Close at once on exit: nothing here needs lingering.
    ctx.setsockopt(zmq.LINGER, 0)
    kinds = {"rep": zmq.REP, "router": zmq.ROUTER, "pub": zmq.PUB, "push-connect": zmq.PUSH}
    if scenario not in kinds:
        raise SystemExit(f"unknown scenario {scenario}")
    sock = ctx.socket(kinds[scenario])

    if scenario.endswith("-connect"):
        sock.connect(f"tcp://127.0.0.1:{sys.argv[2]}")
    else:
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        print(port, flush=True)

    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)

    if scenario == "rep":
        # Answer each request with "reply:" + each frame.
        while not done.is_set():
            if poller.poll(50):
                frames = sock.recv_multipart()
                sock.send_multipart([b"reply:" + f for f in frames])
    elif scenario == "router":
        # Answer [id, "", body...] with [id, "", id, total body length as text, body...].
        while not done.is_set():
            if poller.poll(50):
                ident, empty, *body = sock.recv_multipart()
                total = str(sum(len(b) for b in body)).encode()
                sock.send_multipart([ident, empty, ident, total, *body])
    elif scenario == "pub":
        # Publish one message per topic every 10 ms.
        n = 0
        while not done.wait(0.01):
            for topic in (b"A", b"B"):
                sock.send_multipart([topic + b"-topic", str(n).encode()])
            n += 1
    elif scenario == "push-connect":
        sock.send_multipart([b"one"])
        sock.send_multipart([b"two", b"", b"x" * 300])
        sock.send_multipart([b"three"])
        done.wait(10)
    sock.close(0)
    ctx.term()


if __name__ == "__main__":
    main()
