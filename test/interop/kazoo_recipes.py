#!/usr/bin/python3
"""A kazoo 2.8 peer for the Counter, Party/ShallowParty, Queue and LockingQueue interop tests
(test/integration/counter.test.ts, party.test.ts, queue.test.ts). Run with Debian's
/usr/bin/python3, never a venv.

    kazoo_recipes.py HOSTS

Reads one JSON request per line on stdin, answers one JSON line per request on stdout:
{"id": <same id>, "ok": true, ...result} or {"id": ..., "ok": false, "error": "<repr>"}.
Requests run one at a time, in order. It first prints `SESSION <session id hex> <password hex>`
(kazoo's client.client_id) and `READY`, as every peer of test/interop/ does.

Requests ("op"):
  counter_add    path, delta (number), times, float (bool), curator (bool)
                 -> value (repr of counter.value after), pre, post (repr), raw (hex of the data)
  counter_value  path, float, curator -> value (repr), raw (hex)
  party_join     kind ("party" | "shallow"), path, identifier, name -> node
  party_members  kind, path -> members (sorted list), size
  party_leave    name -> result
  queue_put      kind ("queue" | "locking"), path, values (hex list), priority, all (put_all)
  queue_get      kind, path, count, timeout (locking: get + consume each)
                 -> values (hex list; stops at the first None)
  lq_get         path, name, timeout -> value (hex or null); the item stays locked by `name`
  lq_holds       name -> holds
  null_data      paths -> nulls (the paths whose data kazoo reads as None rather than b"")
  lock_acquire   path, identifier, name -> acquired (a Lock; blocking: false gives up at once)
  election_run   path, identifier, name -> {} (Election.run in a thread; leads until `release`)
  semaphore_acquire  path, identifier, max_leases, name -> acquired (non-blocking)
  release        name -> {} (releases that lock or semaphore, or ends that leadership)
  (a line `exit`, as to every peer of test/interop/, stops the client and exits)
"""
import json
import sys
import threading

from kazoo.client import KazooClient
from kazoo.recipe.counter import Counter
from kazoo.recipe.election import Election
from kazoo.recipe.lock import Lock, Semaphore
from kazoo.recipe.party import Party, ShallowParty
from kazoo.recipe.queue import LockingQueue, Queue

PARTIES = {"party": Party, "shallow": ShallowParty}
QUEUES = {"queue": Queue, "locking": LockingQueue}


def say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(hosts):
    client = KazooClient(hosts=hosts, timeout=10)
    client.start(timeout=15)
    session_id, password = client.client_id
    sys.stdout.write("SESSION %x %s\nREADY\n" % (session_id, password.hex()))
    sys.stdout.flush()
    parties = {}
    held = {}

    def counter(req):
        default = 0.0 if req.get("float") else 0
        return Counter(client, req["path"], default=default, support_curator=bool(req.get("curator")))

    def handle(req):
        op = req["op"]
        if op == "counter_add":
            c = counter(req)
            delta = float(req["delta"]) if req.get("float") else int(req["delta"])
            for _ in range(int(req.get("times", 1))):
                c += delta
            data, _ = client.get(req["path"])
            return {"value": repr(c.value), "pre": repr(c.pre_value), "post": repr(c.post_value), "raw": data.hex()}
        if op == "counter_value":
            c = counter(req)
            value = c.value
            data, _ = client.get(req["path"])
            return {"value": repr(value), "raw": data.hex()}
        if op == "party_join":
            party = PARTIES[req["kind"]](client, req["path"], req.get("identifier"))
            party.join()
            parties[req["name"]] = party
            return {"node": party.node}
        if op == "party_members":
            party = PARTIES[req["kind"]](client, req["path"])
            return {"members": sorted(party), "size": len(party)}
        if op == "party_leave":
            return {"result": parties.pop(req["name"]).leave()}
        if op == "queue_put":
            queue = QUEUES[req["kind"]](client, req["path"])
            values = [bytes.fromhex(v) for v in req["values"]]
            priority = int(req.get("priority", 100))
            if req.get("all"):
                queue.put_all(values, priority)
            else:
                for value in values:
                    queue.put(value, priority)
            return {}
        if op == "queue_get":
            queue = QUEUES[req["kind"]](client, req["path"])
            values = []
            for _ in range(int(req["count"])):
                if req["kind"] == "locking":
                    value = queue.get(float(req.get("timeout", 5)))
                    if value is not None:
                        assert queue.consume()
                else:
                    value = queue.get()
                if value is None:
                    break
                values.append(value.hex())
            return {"values": values}
        if op == "lq_get":
            queue = LockingQueue(client, req["path"])
            value = queue.get(float(req.get("timeout", 5)))
            held[req["name"]] = queue
            return {"value": None if value is None else value.hex()}
        if op == "lq_holds":
            return {"holds": held[req["name"]].holds_lock()}
        if op == "lock_acquire":
            lock = Lock(client, req["path"], req["identifier"])
            held[req["name"]] = lock
            return {"acquired": lock.acquire(blocking=False)}
        if op == "semaphore_acquire":
            semaphore = Semaphore(client, req["path"], req["identifier"], max_leases=int(req["max_leases"]))
            held[req["name"]] = semaphore
            return {"acquired": semaphore.acquire(blocking=False)}
        if op == "election_run":
            election = Election(client, req["path"], req["identifier"])
            step_down = threading.Event()
            threading.Thread(target=election.run, args=(step_down.wait,), daemon=True).start()
            held[req["name"]] = step_down
            return {}
        if op == "release":
            what = held.pop(req["name"])
            if isinstance(what, threading.Event):
                what.set()
            else:
                what.release()
            return {}
        if op == "null_data":
            return {"nulls": [p for p in req["paths"] if client.get(p)[0] is None]}
        raise ValueError("unknown op " + op)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if line == "exit":
            break
        req = json.loads(line)
        try:
            result = handle(req)
            result.update({"id": req["id"], "ok": True})
        except Exception as error:  # reported, never silent
            result = {"id": req["id"], "ok": False, "error": repr(error)}
        say(result)
    try:
        client.stop()
        client.close()
    finally:
        say({"bye": True})


if __name__ == "__main__":
    main(sys.argv[1])
