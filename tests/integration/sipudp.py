#!/usr/bin/env python3
"""One-shot SIP over UDP for the integration tests.

    sipudp.py [--src IP] [--dst IP:PORT] [--wait S] FILE...

Sends each FILE as one datagram (bytes as they are) from SRC, bound to the
port of the message's top Via sent-by (5060 when it names none), so that
an answer reaches us whether it goes to the sent-by port or the source
port. Collects what comes back for up to WAIT seconds (less once a final
response arrived), ignoring answers with another Call-ID (late ones to an
earlier file), ACKs non-2xx finals to INVITEs, and prints one line per
file:

    FILE STATUS REASON      (the first final response; 1xx are skipped)
    FILE none               (no final response)

Exit 0 unless a file could not be sent.
"""
import argparse
import os
import re
import socket
import sys
import time

VIA = re.compile(rb"^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*[0-9.]+[ \t]*/[ \t]*[A-Za-z]+[ \t]+"
                 rb"(\[[0-9a-fA-F:.]+\]|[^ \t;:,\r\n]+)(?:[ \t]*:[ \t]*([0-9]+))?",
                 re.IGNORECASE | re.MULTILINE)


def via_port(data):
    m = VIA.search(data)
    if m and m.group(2):
        port = int(m.group(2))
        if 0 < port < 65536:
            return port
    return 5060


CALLID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


def header(msg, names):
    """First value of a header (any of names, lower case) in msg, or None."""
    head = msg.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in names:
            return value.strip()
    return None


def ack_for(req, rsp):
    """The ACK of a non-2xx final to an INVITE (RFC 3261 17.1.1.3), so that
    the server transaction stops retransmitting it at us."""
    ruri = req.split(b"\r\n", 1)[0].split(b" ")[1]
    lines = [b"ACK " + ruri + b" SIP/2.0"]
    head = rsp.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    for line in head:
        name = line.partition(b":")[0].strip().lower()
        if name in (b"via", b"v"):
            lines.append(line)
            break  # the top Via only: ours
    for names in ((b"from", b"f"), (b"to", b"t"), (b"call-id", b"i")):
        v = header(rsp, names)
        if v is not None:
            lines.append(names[0].capitalize() + b": " + v)
    cseq = header(rsp, (b"cseq",)) or b"1 INVITE"
    lines.append(b"CSeq: " + cseq.split()[0] + b" ACK")
    lines.append(b"Max-Forwards: 70")
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def exchange(data, src, dst, wait):
    port = via_port(data)
    cid = header(data, (b"call-id", b"i"))
    is_invite = data.startswith(b"INVITE ")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((src, port))
    except OSError:
        s.bind((src, 0))
    s.sendto(data, dst)
    deadline = time.monotonic() + wait
    finals = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            msg, _ = s.recvfrom(65535)
        except socket.timeout:
            break
        line = msg.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ", 2)
        if cid is not None and header(msg, (b"call-id", b"i")) != cid:
            continue  # a late answer to an earlier message
        if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
            code = int(parts[1])
            cseq = header(msg, (b"cseq",)) or b""
            if code >= 300 and is_invite and cseq.upper().endswith(b"INVITE"):
                s.sendto(ack_for(data, msg), dst)
            if code >= 200:
                finals.append((code, parts[2] if len(parts) > 2 else ""))
                # Linger briefly for a second (wrong) answer.
                deadline = min(deadline, time.monotonic() + 0.2)
    s.close()
    return finals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default="192.0.2.10")
    ap.add_argument("--dst", default="192.0.2.1:5060")
    ap.add_argument("--wait", type=float, default=1.5)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    host, port = a.dst.rsplit(":", 1)
    dst = (host, int(port))
    rc = 0
    for f in a.files:
        try:
            data = open(f, "rb").read()
        except OSError as e:
            print(f"{os.path.basename(f)} error {e}")
            rc = 1
            continue
        finals = exchange(data, a.src, dst, a.wait)
        name = os.path.basename(f)
        if not finals:
            print(f"{name} none")
        else:
            code, reason = finals[0]
            extra = f" (+{len(finals) - 1} more)" if len(finals) > 1 else ""
            print(f"{name} {code} {reason}{extra}")
        sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
