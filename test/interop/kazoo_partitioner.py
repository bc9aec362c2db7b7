#!/usr/bin/python3
"""A kazoo 2.8 peer for test/integration/interop-kazoo-partitioner.test.ts (run with Debian's
/usr/bin/python3, never a venv).

    kazoo_partitioner.py split                  reads one JSON list of cases on stdin
    kazoo_partitioner.py peer HOSTS PATH IDENTIFIER ITEMS_JSON TIME_BOUNDARY
    kazoo_partitioner.py watch HOSTS PATH

Split mode: each case {"identifier", "members", "items"} is answered with kazoo's own default
partition function (SetPartitioner._partitioner) -- one JSON list of results on stdout, a
result being the share (list) or {"error": "<exception class>"}.

Peer mode runs kazoo's documented loop (failed -> stop; release -> release_set(); acquired ->
report; allocating -> wait_for_acquire) and prints, one line each:
    SESSION <session id hex> <password hex>, READY
    ACQUIRED <state_id> <json list(partitioner)>   once per ACQUIRED period
    STATE <state>                                   every state seen by the loop
    FAILED, FINISHED
stdin commands: `finish` (finish() and exit the loop), `exit`.

Watch mode: a DataWatch and a ChildrenWatch on PATH; prints `DATA <json str or null>` and
`CHILDREN <json sorted list>` for every call, READY after both first calls; stdin `exit`.
"""
import json
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.recipe.partitioner import SetPartitioner

out_lock = threading.Lock()


def say(*words):
    with out_lock:
        sys.stdout.write(" ".join(str(w) for w in words) + "\n")
        sys.stdout.flush()


def split_mode():
    cases = json.loads(sys.stdin.read())
    fake = SetPartitioner.__new__(SetPartitioner)  # only the pure function is used
    results = []
    for case in cases:
        try:
            items = case["items"]
            results.append(list(fake._partitioner(case["identifier"], case["members"], items)))
        except Exception as error:  # reported, never silent
            results.append({"error": type(error).__name__})
    say(json.dumps(results))


def connect(hosts):
    client = KazooClient(hosts=hosts, timeout=10)
    client.start(timeout=15)
    session_id, password = client.client_id
    say("SESSION", "%x" % session_id, password.hex())
    return client


def peer_mode(hosts, path, identifier, items, time_boundary):
    client = connect(hosts)
    partitioner = SetPartitioner(client, path, set(items), identifier=identifier,
                                 time_boundary=time_boundary)
    finish = threading.Event()
    stop = threading.Event()

    def commands():
        for line in sys.stdin:
            command = line.strip()
            if command == "finish":
                finish.set()
            elif command == "exit":
                stop.set()
                finish.set()
                return
        stop.set()
        finish.set()

    threading.Thread(target=commands, daemon=True).start()
    say("READY")
    last_state = None
    reported = None
    while not finish.is_set():
        if partitioner.state != last_state:
            last_state = partitioner.state
            say("STATE", last_state)
        if partitioner.failed:
            say("FAILED")
            break
        elif partitioner.release:
            partitioner.release_set()
        elif partitioner.acquired:
            if reported != partitioner.state_id:
                reported = partitioner.state_id
                say("ACQUIRED", partitioner.state_id, json.dumps(sorted(list(partitioner))))
            time.sleep(0.05)
        elif partitioner.allocating:
            partitioner.wait_for_acquire(0.1)
    if finish.is_set() and not partitioner.failed:
        partitioner.finish()
        say("FINISHED")
    stop.wait(60)
    client.stop()
    client.close()


def watch_mode(hosts, path):
    client = connect(hosts)
    first = threading.Event()

    @client.DataWatch(path)
    def data(value, stat):
        say("DATA", json.dumps(None if value is None else value.decode("utf-8")))

    @client.ChildrenWatch(path)
    def children(names):
        say("CHILDREN", json.dumps(sorted(names)))
        first.set()

    first.wait(15)
    say("READY")
    for line in sys.stdin:
        if line.strip() == "exit":
            break
    client.stop()
    client.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "split":
        split_mode()
    elif mode == "peer":
        peer_mode(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]), float(sys.argv[6]))
    elif mode == "watch":
        watch_mode(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("unknown mode %r" % mode)
