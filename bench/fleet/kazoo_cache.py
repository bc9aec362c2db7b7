"""The kazoo 2.8 peer of the fleet benchmark's tree-cache workloads (bench/fleet/cache-run.ts runs
it with /usr/bin/python3): kazoo's TreeCache over the tree bench/fleet/tree.ts built, then churn
by a second session. Prints one JSON line per workload, in the shape of ours-cache.ts's (no heap
figure: Python's allocator is not comparable).

    python3 kazoo_cache.py CONNECT ROOT NODES SETS
"""
import json
import math
import platform
import queue
import sys
import threading
import time

import kazoo
from kazoo.client import KazooClient
from kazoo.recipe.cache import TreeCache, TreeEvent

connect, root, nodes, sets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CLIENT = {"client": "kazoo", "version": getattr(kazoo, "__version__", "2.8"), "runtime": "Python " + platform.python_version()}


def open_client():
    zk = KazooClient(hosts=connect, timeout=10.0)
    zk.start(timeout=30)
    return zk


def percentile(values, q):
    return values[max(0, math.ceil(q * len(values)) - 1)]


zk = open_client()
initialized = threading.Event()
updated = queue.Queue()


def listener(event):
    if event.event_type == TreeEvent.INITIALIZED:
        initialized.set()
    elif event.event_type == TreeEvent.NODE_UPDATED:
        updated.put(("%s@%d" % (event.event_data.path, event.event_data.stat.version), time.perf_counter()))


started = time.perf_counter()
cache = TreeCache(zk, root)
cache.listen(listener)
cache.start()
if not initialized.wait(600):
    raise SystemExit("not initialized")
load_ms = (time.perf_counter() - started) * 1000


def count(path):
    return 1 + sum(count(path + "/" + name) for name in (cache.get_children(path) or []))


print(json.dumps(dict(CLIENT, workload="treeLoad", nodes=count(root), ms=load_ms)), flush=True)

if sets > 0:
    writer = open_client()
    parents = max(1, round(nodes / 51))
    lags = []
    for i in range(sets):
        path = "%s/p%05d/c%02d" % (root, i % parents, (i // parents) % 50)
        t0 = time.perf_counter()
        key = "%s@%d" % (path, writer.set(path, b"churn-%d" % i).version)
        while True:
            seen, t1 = updated.get(timeout=30)
            if seen == key:
                lags.append((t1 - t0) * 1000)
                break
    lags.sort()
    print(json.dumps(dict(CLIENT, workload="churn", sets=sets, lagP50Ms=percentile(lags, 0.5), lagP99Ms=percentile(lags, 0.99))), flush=True)
    writer.stop()
    writer.close()
cache.close()
zk.stop()
zk.close()
