#!/usr/bin/env python3
"""Sync benchmark (DESIGN.md §9): two `peat` node processes on 127.0.0.1.

Measures, with a release build:
  * initial sync of 10,000 and 100,000 small documents (time, UDP bytes on the wire),
  * re-sync after 10 of 100,000 documents changed while the second node was down,
  * write-on-A to watch-on-B latency (p50/p99).

Run: benches/sync.sh   (builds with --release, then runs this with PEAT=target/release/peat)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PEAT = os.environ.get("PEAT", "target/release/peat")
TIMEOUT = "300s"


def peat(d, *args, stdin=None, check=True):
    r = subprocess.run([PEAT, "--dir", d, *args], input=stdin, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"peat {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def jpeat(d, *args):
    return json.loads(peat(d, *args, "--output", "json").stdout)


def docs(n, tag="v1"):
    return "".join(
        json.dumps({"id": f"u{i}", "name": f"unit {i}", "speed": i % 40, "tag": tag,
                    "pos": {"lat": 59.3 + i * 1e-5, "lon": 18.0 - i * 1e-5}}) + "\n"
        for i in range(n)
    )


def addr(d):
    s = jpeat(d, "sync", "status")
    return f"{s['node_id']}@{s['listen'][0]}"


def wire_bytes(d):
    """UDP bytes this node sent to and received from its peers so far."""
    return sum(p["bytes_sent"] + p["bytes_received"] for p in jpeat(d, "peers"))


def pair(root, n):
    a, b = os.path.join(root, f"a{n}"), os.path.join(root, f"b{n}")
    peat(a, "init", "--listen", "127.0.0.1:0")
    peat(b, "init", "--listen", "127.0.0.1:0")
    shutil.copy(os.path.join(a, "formation.key"), os.path.join(b, "formation.key"))
    data = docs(n)
    t = time.perf_counter()
    peat(a, "upsert", "units", stdin=data)
    ingest = time.perf_counter() - t
    peat(a, "sync", "start")
    peat(b, "sync", "start")
    return a, b, ingest


def initial_sync(root, n):
    a, b, ingest = pair(root, n)
    target = addr(a)
    t = time.perf_counter()
    peat(b, "peers", "add", target)
    # A's `sync wait` returns once B acknowledged A's whole change log: B holds every document.
    while peat(a, "sync", "wait", "--timeout", TIMEOUT, check=False).returncode != 0:
        pass
    took = time.perf_counter() - t
    count = jpeat(b, "query", "units", "--count")
    assert count == n, (count, n)
    return a, b, took, wire_bytes(a), ingest


def resync(a, b, changed):
    peat(b, "sync", "stop")
    peat(a, "upsert", "units", stdin="".join(
        json.dumps({"id": f"u{i * 997}", "tag": "changed"}) + "\n" for i in range(changed)))
    before = wire_bytes(a)
    peat(b, "sync", "start")
    t = time.perf_counter()
    peat(a, "sync", "wait", "--timeout", TIMEOUT)
    took = time.perf_counter() - t
    got = jpeat(b, "query", "units", "--where", "tag == changed", "--count")
    assert got == changed, got
    return took, wire_bytes(a) - before


def latency(a, b, samples=300):
    """Times from A's watch seeing its own write to B's watch seeing it (the sync path), and
    from invoking `peat upsert` on A to B's watch (what a user sees)."""
    seen = {"a": {}, "b": {}}
    procs = []

    def reader(name, d):
        p = subprocess.Popen([PEAT, "--dir", d, "watch", "lat", "--no-initial", "--output", "ndjson"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(p)
        for line in p.stdout:
            now = time.perf_counter()
            seen[name][json.loads(line)["id"]] = now

    threads = [threading.Thread(target=reader, args=(n, d), daemon=True) for n, d in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    # Wait until both watchers are subscribed: a probe write reaches both.
    while "probe" not in seen["a"] or "probe" not in seen["b"]:
        peat(a, "upsert", "lat", "probe", "--set", f"t={time.time()}")
        time.sleep(0.2)  # only paces the probe; the measurement below waits on events
    sent = {}
    for i in range(samples):
        key = f"w{i}"
        sent[key] = time.perf_counter()
        peat(a, "upsert", "lat", key, "--set", f"i={i}")
        deadline = time.perf_counter() + 10
        while key not in seen["b"] and time.perf_counter() < deadline:
            time.sleep(0.0005)
    for p in procs:
        p.terminate()
    path = sorted((seen["b"][k] - seen["a"][k]) * 1000 for k in sent if k in seen["a"] and k in seen["b"])
    user = sorted((seen["b"][k] - sent[k]) * 1000 for k in sent if k in seen["b"])
    lost = samples - len(user)
    return path, user, lost


def pct(xs, p):
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def rss_kb(d):
    pid = jpeat(d, "sync", "status")["pid"]
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    root = tempfile.mkdtemp(prefix="peat-bench-")
    nodes = []
    try:
        print(f"peat sync benchmark ({PEAT}, {os.cpu_count()} CPUs, loopback)")
        for n in (10_000, 100_000):
            a, b, took, wire, ingest = initial_sync(root, n)
            nodes += [a, b]
            print(f"initial sync of {n:>7,} docs: {took:6.2f} s, {wire / 1e6:6.1f} MB on the wire "
                  f"({wire / n:.0f} B/doc); ingest on A {n / ingest:,.0f} docs/s")
            if n == 100_000:
                took, wire = resync(a, b, 10)
                print(f"re-sync after 10 of 100,000 changed: {took * 1000:6.0f} ms "
                      f"(connect + catch-up, from B's start), {wire / 1e3:.1f} KB on the wire")
                print(f"resident memory with 100,000 docs: A {rss_kb(a) / 1024:.0f} MB, B {rss_kb(b) / 1024:.0f} MB")
                path, user, lost = latency(a, b)
                print(f"write on A -> watch on B, sync path (A's watch to B's watch): "
                      f"p50 {pct(path, 50):.1f} ms, p99 {pct(path, 99):.1f} ms ({len(path)} samples)")
                print(f"write on A -> watch on B, from invoking `peat upsert`: "
                      f"p50 {pct(user, 50):.1f} ms, p99 {pct(user, 99):.1f} ms, lost {lost}")
            else:
                peat(a, "sync", "stop")
                peat(b, "sync", "stop")
                nodes.clear()
    finally:
        for d in nodes:
            peat(d, "sync", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
