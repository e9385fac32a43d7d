#!/usr/bin/env python3
"""Floods the transaction tier with failing logins until stopped (SIGTERM), for bench/run's
flood part: THREADS keep-alive TLS connections, each bound to its own loopback source address
(127.0.0.2 and up) so that no per-address budget stops the flood, together sending RATE logins a
second with wrong passwords for made-up users. On SIGTERM it prints one JSON line: requests per
second and the count of each answer status.

  login_flood.py HOST:PORT CAFILE THREADS RATE
"""
import collections
import http.client
import json
import signal
import ssl
import sys
import threading
import time
import uuid

server, cafile, threads, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
interval = threads / rate  # each connection's pace
host, port = server.rsplit(":", 1)
# Any valid P-256 public key: the password check fails before the device key matters.
DEVICE_KEY = "BDZW3XGzO1ra8DAidKl2ETk2n/9UBVHZ16YR8qFlAbRl4okNwg8agY24WMwNXFqJhlAqiQYVJIGLvMVJReq4WC8="
stop = threading.Event()
counts = collections.Counter()
lock = threading.Lock()


def flood(n):
    context = ssl.create_default_context(cafile=cafile)
    source = f"127.0.{2 + n // 250}.{2 + n % 250}"
    conn = None
    due = time.monotonic() + interval * n / threads
    while not stop.is_set():
        due += interval
        stop.wait(max(0.0, due - time.monotonic()))
        if stop.is_set():
            break
        try:
            if conn is None:
                conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30, source_address=(source, 0))
            body = json.dumps({"user": f"flood{uuid.uuid4().hex[:12]}", "password": "wrong password!",
                               "clientID": str(uuid.uuid4()), "deviceKey": DEVICE_KEY})
            conn.request("POST", "/v1/login", body, {"Content-Type": "application/json"})
            reply = conn.getresponse()
            reply.read()
            status = reply.status
            if reply.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as error:  # a refused or closed connection counts, and the loop goes on
            status = type(error).__name__
            conn = None
            time.sleep(0.05)
        with lock:
            counts[status] += 1


start = time.monotonic()
workers = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(threads)]
for w in workers:
    w.start()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
while not stop.is_set():
    stop.wait(0.2)
elapsed = time.monotonic() - start
with lock:
    total = sum(counts.values())
    print(json.dumps({"threads": threads, "rate": rate, "seconds": round(elapsed, 1), "perSecond": round(total / elapsed, 1),
                      "statuses": {str(k): v for k, v in sorted(counts.items(), key=str)}}))
