"""The scale suite's program for kazoo (Debian python3-kazoo, 2.8):
python3 bench/fleet/kazoo_fleet.py '<CaseRequest JSON>'.

Runs one case of one workload -- the same work as our client's program (bench/fleet/workloads/)
with kazoo's own recipes -- and prints one JSON line: {"seconds", "items", ...}, or
{"skip": why} for a workload not implemented here. Add a workload: a function taking
(request, params, session) and an entry in WORKLOADS.
"""
import json
import math
import queue as queues
import socket
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.recipe.cache import TreeCache, TreeEvent

SESSION_TIMEOUT_S = 10
TREE_SESSION_TIMEOUT_S = 30
PAYLOAD = b"q" * 100
BATCH = 500


def packets_received(request):
    """The server's zk_packets_received (mntr): requests received so far, from every session."""
    with socket.create_connection((request["host"], request["port"]), timeout=10) as sock:
        sock.sendall(b"mntr")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode("ascii").splitlines():
        if line.startswith("zk_packets_received"):
            return int(line.split()[1])
    raise RuntimeError("mntr: no zk_packets_received")


def fill(zk, create_path, count):
    """Put count items, BATCH per transaction (the set-up, not measured)."""
    done = 0
    while done < count:
        transaction = zk.transaction()
        for _ in range(min(BATCH, count - done)):
            transaction.create(create_path, PAYLOAD, sequence=True)
        for result in transaction.commit():
            if isinstance(result, Exception):
                raise result
        done += BATCH


def timed(request, items, work):
    """Time work() on items items; the requests the server received meanwhile, per item."""
    before = packets_received(request)
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    requests = packets_received(request) - before
    return {"seconds": seconds, "items": items, "requests_per_item": requests / items}


def get_and_consume(queue, i):
    """Get and consume one item (the i-th) of a LockingQueue; an empty queue fails the run."""
    if queue.get(10) is None:
        raise RuntimeError("queue empty after %d items" % i)
    if not queue.consume():
        raise RuntimeError("consume() found nothing held")


def locking_queue(request, params, session):
    zk = session()
    queue = zk.LockingQueue(request["root"] + "/q")
    queue._ensure_paths()
    fill(zk, queue._entries_path + "/entry-100-", params["queued"])

    def work():
        for i in range(params["consume"]):
            get_and_consume(queue, i)

    return timed(request, params["consume"], work)


def locking_queue_fed(request, params, session):
    zk, producer_session = session(), session()
    queue = zk.LockingQueue(request["root"] + "/q")
    producer = producer_session.LockingQueue(request["root"] + "/q")
    queue._ensure_paths()
    fill(zk, queue._entries_path + "/entry-100-", params["queued"])

    def work():
        for i in range(params["consume"]):
            producer.put(PAYLOAD)
            get_and_consume(queue, i)

    return timed(request, params["consume"], work)


def locking_queue_consumers(request, params, session):
    clients = [session() for _ in range(params["consumers"])]
    queues = [zk.LockingQueue(request["root"] + "/q") for zk in clients]
    queues[0]._ensure_paths()
    fill(clients[0], queues[0]._entries_path + "/entry-100-", params["queued"])
    taken = [0]
    lock = threading.Lock()
    errors = []

    def consumer(queue):
        try:
            while True:
                with lock:
                    if taken[0] >= params["consume"]:
                        return
                    taken[0] += 1
                get_and_consume(queue, taken[0])
        except Exception as error:  # reported by the main thread
            errors.append(error)

    def work():
        threads = [threading.Thread(target=consumer, args=(q,), daemon=True) for q in queues]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    return timed(request, params["consume"], work)


def queue(request, params, session):
    zk = session()
    q = zk.Queue(request["root"] + "/q")
    q._ensure_paths()
    fill(zk, q.path + "/" + q.prefix + "100-", params["queued"])

    def work():
        for i in range(params["consume"]):
            if q.get() is None:
                raise RuntimeError("queue empty after %d items" % i)

    return timed(request, params["consume"], work)


def partitioner(rebalance):
    def run(request, params, session):
        members = params["members"]
        items = ["item-%05d" % i for i in range(params["items"])]
        clients = [session() for _ in range(members + 1)]
        path = request["root"] + "/p"
        group = []
        stop = threading.Event()

        def drive(p):
            # A member's own loop (kazoo's documented one): release when told to, allocation
            # runs in kazoo's background.
            while not stop.is_set():
                if p.failed:
                    return
                if p.release:
                    p.release_set()
                else:
                    time.sleep(0.001)

        def join(i):
            p = clients[i].SetPartitioner(path, items, identifier="m%d" % i, time_boundary=0.1)
            group.append(p)
            thread = threading.Thread(target=drive, args=(p,), daemon=True)
            thread.start()
            return thread

        def all_acquired(since):
            while True:
                if any(p.failed for p in group):
                    raise RuntimeError("a partitioner failed")
                if all(p.acquired and p.state_id > s for p, s in zip(group, since)):
                    return
                time.sleep(0.001)

        started = time.perf_counter()
        threads = [join(i) for i in range(members)]
        all_acquired([-1] * members)
        if rebalance:
            since = [p.state_id for p in group] + [-1]
            started = time.perf_counter()
            threads.append(join(members))
            all_acquired(since)
        seconds = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join()
        for p in group:
            p.finish()
        return {"seconds": seconds, "items": params["items"]}

    return run


def lock_handover(request, params, session):
    waiters = params["waiters"]
    clients = [session() for _ in range(10)]
    path = request["root"] + "/lock"
    holder = clients[0].Lock(path)
    holder.acquire()
    order = []
    threads = []

    def wait(i, lock):
        lock.acquire()
        order.append(i)
        lock.release()

    for i in range(waiters):
        lock = clients[i % len(clients)].Lock(path)
        thread = threading.Thread(target=wait, args=(i, lock), daemon=True)
        thread.start()
        threads.append(thread)
        while lock.node is None:  # queued before the next one
            time.sleep(0.001)
    time.sleep(0.3)  # every waiter's watch set
    before = packets_received(request)
    started = time.perf_counter()
    holder.release()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    requests = packets_received(request) - before
    return {
        "seconds": seconds,
        "items": waiters,
        "ms_per_handover": seconds * 1000 / waiters,
        "requests_per_handover": requests / waiters,
        "fifo": order == list(range(waiters)),
    }


def ensure_path(request, params, session):
    zk = session()
    base = request["root"] + "/a/b/c"
    zk.ensure_path(base)
    before = packets_received(request)
    started = time.perf_counter()
    for i in range(params["paths"]):
        zk.ensure_path("%s/item-%d" % (base, i))
    seconds = time.perf_counter() - started
    requests = packets_received(request) - before
    return {"seconds": seconds, "items": params["paths"], "requests_per_path": requests / params["paths"]}


def tree_cache(request, params, session):
    """TreeCache over the shared tree (bench/fleet/workloads/tree-cache.ts): load, then churn.
    No heap figure: Python's allocator is not comparable."""
    root, nodes, sets = request["shared"], params["nodes"], params["sets"]
    zk = session(timeout=TREE_SESSION_TIMEOUT_S)
    initialized = threading.Event()
    updated = queues.Queue()

    def listener(event):
        if event.event_type == TreeEvent.INITIALIZED:
            initialized.set()
        elif event.event_type == TreeEvent.NODE_UPDATED:
            updated.put(("%s@%d" % (event.event_data.path, event.event_data.stat.version), time.perf_counter()))

    started = time.perf_counter()
    cache = TreeCache(zk, root)
    cache.listen(listener)
    cache.start()
    loaded = initialized.wait(params["load_s"])
    seconds = time.perf_counter() - started

    def count(path):
        return 1 + sum(count(path + "/" + name) for name in (cache.get_children(path) or []))

    parents = max(1, round(nodes / 51))
    result = {"seconds": seconds, "items": count(root), "expected": 1 + parents * 51, "initialized": loaded}
    if sets > 0 and loaded:
        writer = session()
        lags = []
        stop_at = time.perf_counter() + params["churn_s"]
        i = 0
        while i < sets and time.perf_counter() < stop_at:
            path = "%s/p%05d/c%02d" % (root, i % parents, (i // parents) % 50)
            t0 = time.perf_counter()
            key = "%s@%d" % (path, writer.set(path, b"churn-%d" % i).version)
            while True:
                seen, t1 = updated.get(timeout=30)
                if seen == key:
                    lags.append((t1 - t0) * 1000)
                    break
            i += 1
        lags.sort()
        result.update(churn_sets=len(lags), churn_lag_p50_ms=percentile(lags, 0.5), churn_lag_p99_ms=percentile(lags, 0.99))
    cache.close()
    return result


def percentile(values, q):
    return values[max(0, math.ceil(q * len(values)) - 1)]


WORKLOADS = {
    "locking_queue": locking_queue,
    "locking_queue_fed": locking_queue_fed,
    "locking_queue_consumers": locking_queue_consumers,
    "queue": queue,
    "partitioner_allocate": partitioner(False),
    "partitioner_rebalance": partitioner(True),
    "lock_handover": lock_handover,
    "ensure_path": ensure_path,
    "tree_cache": tree_cache,
}


def main():
    request = json.loads(sys.argv[1])
    workload = WORKLOADS.get(request["workload"])
    if workload is None:
        print(json.dumps({"skip": "not implemented for kazoo"}), flush=True)
        return
    clients = []

    def session(timeout=SESSION_TIMEOUT_S):
        zk = KazooClient(hosts=request["connect"], timeout=timeout)
        zk.start(timeout=15)
        clients.append(zk)
        return zk

    try:
        result = workload(request, request["params"], session)
    finally:
        for zk in clients:
            zk.stop()
            zk.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
