#!/usr/bin/env python3
"""Runs a command and prints its wall time, CPU, peak memory and bytes written.

Polls /proc/PID/io every 20 ms until the command exits (the last sample is shown), and
prints wait4's rusage: ru_oublock x 512 is the bytes the kernel wrote for it
(write_bytes). Linux only. Used for `solocrm demo` in docs/performance.md.
"""
import os
import subprocess
import sys
import time

p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
last = {}
t0 = time.monotonic()
while True:
    try:
        with open(f"/proc/{p.pid}/io") as f:
            cur = dict(l.strip().split(": ") for l in f)
            if cur: last = cur
    except Exception:
        pass
    r = os.wait4(p.pid, os.WNOHANG)
    if r[0] != 0:
        break
    time.sleep(0.02)
wall = time.monotonic() - t0
ru = r[2]
print(f"exit={os.waitstatus_to_exitcode(r[1])} wall={wall:.2f}s user={ru.ru_utime:.2f}s sys={ru.ru_stime:.2f}s maxrss={ru.ru_maxrss/1024:.0f}MiB oublock_bytes={ru.ru_oublock*512}")
print("last /proc io sample:", {k: last.get(k) for k in ("wchar","write_bytes","rchar","read_bytes")})
