#!/usr/bin/python3
"""A kazoo 2.8 worker of the nemesis (scripts/nemesis/nemesis.ts), the counterpart of
scripts/nemesis/worker.ts. Run with Debian's /usr/bin/python3, never a venv.

    kazoo_nemesis.py CONFIG     CONFIG: JSON {name, hosts, seed, sessionTimeout (ms), history}

Three threads contend on the nemesis's Lock (with guarded writes: a transaction of a check of
our lock node + the write, the equivalent of our lock.transaction()), LockingQueue and Counter,
and append one JSON line per event to the history file, in the format of
scripts/nemesis/history.ts. Times are time.monotonic_ns() (CLOCK_MONOTONIC, as Node's
process.hrtime.bigint()). A held lock counts as lost from the first SUSPENDED or LOST (kazoo's
documented advice for Lock holders). SIGTERM: finish the current operations, stop the client,
exit 0.

The counter increment is kazoo's Counter._inner_change under a retry of version conflicts only:
kazoo's own Counter retries a lost reply by re-reading and adding again (a double increment),
so an increment whose reply is lost is reported as unknown instead.
"""
import json
import os
import random
import signal
import sys
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import LockTimeout
from kazoo.recipe.counter import Counter
from kazoo.recipe.lock import Lock
from kazoo.recipe.queue import LockingQueue
from kazoo.retry import ForceRetryError, InterruptedError as RetryInterrupted, KazooRetry

LOCK_PATH = "/nemesis/lock"
QUEUE_PATH = "/nemesis/queue"
COUNTER_PATH = "/nemesis/counter"
GUARDED = "/nemesis/guarded/w-"
MAX_ITERATIONS = 100000
ACQUIRE_TIMEOUT = 3.0
GET_TIMEOUT = 2.0


def main(config):
    name = config["name"]
    out = open(config["history"], "a")
    out_lock = threading.Lock()

    def record(t=None, **event):
        line = json.dumps(dict(t=t if t is not None else time.monotonic_ns(), p=name, **event))
        with out_lock:
            out.write(line + "\n")
            out.flush()

    def text(error):
        return "%s: %s" % (type(error).__name__, error)

    stop = threading.Event()

    def on_term(signum, frame):
        record(ev="stop")
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    record(ev="start", pid=os.getpid())

    holding = {"acq": None}
    session = {"id": None}
    zk = KazooClient(hosts=config["hosts"], timeout=config["sessionTimeout"] / 1000.0)

    def note_session():
        session_id = zk.client_id[0] if zk.client_id else None
        if session_id is not None and session_id != session["id"]:
            session["id"] = session_id
            record(ev="session", session="%x" % session_id)

    def listener(state):
        # Runs on kazoo's connection thread: record only, never block (and return None: a true
        # result would remove the listener).
        record(ev="state", state=state)
        if state == KazooState.CONNECTED:
            note_session()
        with out_lock:
            acq = holding["acq"]
            if state != KazooState.CONNECTED and acq is not None:
                holding["acq"] = None
            else:
                acq = None
        if acq is not None:
            record(ev="lost", acq=acq)

    zk.add_listener(listener)
    zk.start(timeout=30)
    note_session()

    def jitter(rnd, seconds):
        stop.wait(rnd.random() * seconds)

    def lock_loop(rnd):
        lock = Lock(zk, LOCK_PATH, name)
        acq = 0
        writes = 0
        for _ in range(MAX_ITERATIONS):
            if stop.is_set():
                break
            try:
                got = lock.acquire(timeout=ACQUIRE_TIMEOUT)
            except LockTimeout:
                record(ev="acquire-failed", error="timeout")
                continue
            except Exception as error:
                record(ev="acquire-failed", error=text(error))
                jitter(rnd, 0.2)
                continue
            if not got:
                record(ev="acquire-failed", error="not acquired")
                continue
            acquired_at = time.monotonic_ns()
            acq += 1
            with out_lock:
                holding["acq"] = acq
            node = "%s/%s" % (lock.path, lock.node)
            token = None
            try:
                stat = zk.exists(node)
                token = None if stat is None else str(stat.czxid)
            except Exception as error:
                record(ev="error", loop="lock", error="reading the fencing token: " + text(error))
            record(t=acquired_at, ev="acquired", acq=acq, token=token or "unknown")
            with out_lock:
                lost = holding["acq"] != acq or token is None or zk.state != KazooState.CONNECTED
                if lost:
                    holding["acq"] = None
            if lost:
                record(ev="lost", acq=acq)
            for _ in range(1 + int(rnd.random() * 3)):
                if token is None or not lock.is_acquired:
                    break
                jitter(rnd, 0.15)
                writes += 1
                write_id = "%s-w%d" % (name, writes)
                data = json.dumps({"token": token, "p": name, "id": write_id}).encode()
                transaction = zk.transaction()
                transaction.check(node, 0)
                transaction.create(GUARDED, data, sequence=True)
                try:
                    results = transaction.commit()
                    failures = [r for r in results if isinstance(r, Exception)]
                    if failures:
                        record(ev="write", acq=acq, token=token, id=write_id, outcome="failed", error=text(failures[0]))
                    else:
                        record(ev="write", acq=acq, token=token, id=write_id, outcome="ok")
                except Exception as error:
                    record(ev="write", acq=acq, token=token, id=write_id, outcome="unknown", error=text(error))
            jitter(rnd, 0.2)
            with out_lock:
                if holding["acq"] == acq:
                    holding["acq"] = None
            record(ev="release", acq=acq)
            try:
                lock.release()
                record(ev="released", acq=acq)
            except Exception as error:
                record(ev="released", acq=acq, error=text(error))
            jitter(rnd, 0.3)

    def queue_loop(rnd):
        queue = LockingQueue(zk, QUEUE_PATH)
        items = 0
        for _ in range(MAX_ITERATIONS):
            if stop.is_set():
                break
            if rnd.random() < 0.5:
                items += 1
                item = "%s-%d" % (name, items)
                try:
                    queue.put(item.encode())
                    record(ev="put", item=item, outcome="ok")
                except Exception as error:
                    record(ev="put", item=item, outcome="unknown", error=text(error))
                continue
            try:
                value = queue.get(timeout=GET_TIMEOUT)
            except Exception as error:
                record(ev="got", item=None, error=text(error))
                jitter(rnd, 0.2)
                continue
            item = None if value is None else value.decode()
            record(ev="got", item=item)
            if item is None:
                continue
            jitter(rnd, 0.1)
            try:
                if rnd.random() < 0.15:
                    queue.release()
                    record(ev="unget", item=item)
                else:
                    consumed = queue.consume()
                    record(ev="consume", item=item, outcome="ok" if consumed else "failed")
            except Exception as error:
                record(ev="consume", item=item, outcome="unknown", error=text(error))
                # kazoo keeps returning a held element whose lock is gone (its docs: check
                # holds_lock); let go of it once the lock is not ours any more.
                try:
                    if not queue.holds_lock():
                        queue.processing_element = None
                except Exception:
                    queue.processing_element = None

    def counter_loop(rnd):
        counter = Counter(zk, COUNTER_PATH)
        zk.retry(counter._ensure_node)
        # A short back-off cap: kazoo's default (doubling up to 60 s) starves a contended counter.
        conflicts = KazooRetry(max_tries=-1, delay=0.01, max_delay=0.5, ignore_expire=False, interrupt=stop.is_set)
        conflicts.retry_exceptions = (ForceRetryError,)
        for _ in range(MAX_ITERATIONS):
            if stop.is_set():
                break
            try:
                conflicts(counter._inner_change, 1)
                record(ev="incr", outcome="ok")
            except RetryInterrupted as error:
                # Stopped between tries: the last try met a version conflict, so nothing applied.
                record(ev="incr", outcome="failed", error=text(error))
            except Exception as error:
                record(ev="incr", outcome="unknown", error=text(error))
            jitter(rnd, 0.2)

    def run(loop, seed):
        try:
            loop(random.Random(seed))
        except Exception as error:
            record(ev="error", loop=loop.__name__, error=text(error))
            raise

    threads = [threading.Thread(target=run, args=(loop, config["seed"] * 3 + i), daemon=True)
               for i, loop in enumerate((lock_loop, queue_loop, counter_loop))]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
    zk.stop()
    zk.close()
    record(ev="closed")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
