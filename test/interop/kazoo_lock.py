#!/usr/bin/python3
"""A kazoo 2.8 peer for test/integration/interop-kazoo-lock.test.ts (run with Debian's
/usr/bin/python3, never a venv).

    kazoo_lock.py KIND HOSTS PATH IDENTIFIER     KIND: lock | rlock | wlock | election
    kazoo_lock.py sequence                       reads one JSON list of cases on stdin

Peer mode reads commands on stdin, one per line, and answers on stdout, one line each:
    acquire [TIMEOUT]  -> ACQUIRED | NOT_ACQUIRED | TIMEOUT | ERROR <text>   (runs in a thread)
    try                -> ACQUIRED | NOT_ACQUIRED                            (blocking=False)
    release            -> RELEASED <True|False>
    run                -> LEADER (when elected), then RESIGNED after `resign`, or CANCELLED
    resign | cancel    -> ends the leader function / cancels a waiting election
    contenders         -> CONTENDERS <json list>
    status             -> STATUS <json: is_acquired, state>
    exit               -> stops the client and exits
It first prints `SESSION <session id hex> <password hex>` (kazoo's client.client_id) and
`READY`; connection state changes are printed as `STATE <state>`.

Sequence mode: each case {"kind", "children", "node", "extra"} is answered with kazoo's own
`_get_predecessor(node)` (with a stubbed get_children) and the contenders() order.
"""
import json
import re
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import CancelledError, LockTimeout
from kazoo.recipe.lock import Lock, ReadLock, WriteLock

KINDS = {"lock": Lock, "rlock": ReadLock, "wlock": WriteLock}
out_lock = threading.Lock()


def say(*words):
    with out_lock:
        sys.stdout.write(" ".join(str(w) for w in words) + "\n")
        sys.stdout.flush()


def sequence_mode():
    cases = json.loads(sys.stdin.read())
    client = KazooClient()  # never started: only the recipes' pure logic is used
    results = []
    for case in cases:
        lock = KINDS[case["kind"]](client, "/p", extra_lock_patterns=tuple(case.get("extra", [])))
        client.get_children = lambda path, children=case["children"]: list(children)
        names = lock._exclude_names | {lock._NODE_NAME}
        every = re.compile(r"(?:{})(-?\d{{10}})$".format("|".join(names)))
        matches = [m for m in (every.search(c) for c in case["children"]) if m]
        order = [m.string for m in sorted(matches, key=lambda m: m.groups())]
        results.append({"predecessor": lock._get_predecessor(case["node"]), "order": order})
    say(json.dumps(results))


def peer_mode(kind, hosts, path, identifier):
    client = KazooClient(hosts=hosts, timeout=10)
    client.add_listener(lambda state: say("STATE", state))
    client.start(timeout=15)
    session_id, password = client.client_id
    say("SESSION", "%x" % session_id, password.hex())

    if kind == "election":
        election = client.Election(path, identifier)
        lock = election.lock
    else:
        election = None
        lock = KINDS[kind](client, path, identifier)
    resign = threading.Event()

    def acquire(timeout):
        try:
            got = lock.acquire(timeout=timeout)
            say("ACQUIRED" if got else "NOT_ACQUIRED")
        except LockTimeout:
            say("TIMEOUT")
        except CancelledError:
            say("CANCELLED")
        except Exception as error:  # reported, never silent
            say("ERROR", repr(error).replace("\n", " "))

    def leader():
        say("LEADER")
        resign.wait()

    def run():
        try:
            election.run(leader)
            say("RESIGNED" if resign.is_set() else "CANCELLED")
        except Exception as error:
            say("ERROR", repr(error).replace("\n", " "))

    say("READY")
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command = words[0]
        try:
            if command == "acquire":
                timeout = float(words[1]) if len(words) > 1 else None
                threading.Thread(target=acquire, args=(timeout,), daemon=True).start()
            elif command == "try":
                say("ACQUIRED" if lock.acquire(blocking=False) else "NOT_ACQUIRED")
            elif command == "release":
                say("RELEASED", lock.release())
            elif command == "run":
                resign.clear()
                threading.Thread(target=run, daemon=True).start()
            elif command == "resign":
                resign.set()
            elif command == "cancel":
                (election or lock).cancel()
            elif command == "contenders":
                say("CONTENDERS", json.dumps(lock.contenders()))
            elif command == "status":
                say("STATUS", json.dumps({"is_acquired": lock.is_acquired, "state": client.state}))
            elif command == "exit":
                break
            else:
                say("ERROR", "unknown command " + command)
        except Exception as error:
            say("ERROR", repr(error).replace("\n", " "))
    try:
        client.stop()
        client.close()
    finally:
        say("BYE")


if __name__ == "__main__":
    if sys.argv[1:2] == ["sequence"]:
        sequence_mode()
    else:
        peer_mode(*sys.argv[1:5])
