#!/usr/bin/env python3
"""Count individual test cases in a meson testlog.json: TAP tests count
each 'ok'/'not ok' line of their output, other tests count as one."""
import json
import re
import sys

passed = failed = 0
try:
    lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
except OSError:
    print("0 1")
    sys.exit(0)
for line in lines:
    if not line.strip():
        continue
    t = json.loads(line)
    out = t.get("stdout") or ""
    oks = len(re.findall(r"^ok\b", out, re.M))
    noks = len(re.findall(r"^not ok\b", out, re.M))
    ok = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    if oks or noks:
        passed += oks
        failed += noks
        if not ok and noks == 0:
            failed += 1  # crashed or timed out after its last case
    elif ok:
        passed += 1
    else:
        failed += 1
print(passed, failed)
