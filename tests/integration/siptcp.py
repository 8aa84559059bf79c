#!/usr/bin/env python3
"""SIP over one TCP or TLS connection, step by step, for the integration tests.

    siptcp.py [--src IP] [--dst IP:PORT] [--tls [--cert PEM] [--key PEM]
              [--ca PEM] [--name NAME]] STEP...

Connects from SRC (port chosen by the kernel) to DST with TCP_NODELAY,
prints "local IP:PORT", then runs the steps in order. Steps (each a verb
and its arguments):

    opt ID                  send an OPTIONS for the proxy (Request-URI
                            sip:DST), Call-ID ID, in one write
    opt-split ID N MS       the same OPTIONS in writes of N bytes, MS ms apart
    opt-batch ID,ID,...     several OPTIONS in one write
    opt-cl ID VALUE         an OPTIONS whose header is "Content-Length: VALUE"
                            (no body); VALUE "none" leaves the header out
    partial ID              the OPTIONS without its last CRLF (never ends)
    raw TEXT                TEXT with Python escapes (\\r\\n) decoded
    expect N [S]            read N messages (S seconds at most, default 3):
                            "rsp STATUS CALL-ID" for each response, "req
                            METHOD CALL-ID" for a request, "eof" on EOF,
                            "timeout" when S passed first
    read S                  every byte that arrives within S seconds (or
                            until EOF): "bytes REPR" then "eof" on EOF
    eof S                   wait up to S seconds for EOF: "eof AFTER" (its
                            time in s), or "open" (still open after S);
                            messages arriving meanwhile print as in expect
    sleep S                 sleep S seconds
    close                   close our side

TLS: --tls wraps the connection (TLS 1.2+, SNI NAME when given); the
server's certificate is checked against --ca (and NAME or the address)
when --ca is given; --cert/--key present a client certificate. A failed
handshake prints "tls-fail REASON" and ends the run; an SSL error later
(an alert after a TLS 1.3 handshake) prints "tls-error REASON" where the
step would print its result.

    siptcp.py --flood N --hold S [--silent] [--dst IP:PORT]

opens N connections (in waves, without waiting), sends each a few bytes
of garbage or (every other one) a truncated TLS ClientHello, or nothing
with --silent, and never completes; keeps
them until S seconds have passed, then prints "flood opened O refused R
closed-by-peer C still-open K" (closed-by-peer: the server ended them).

Exit 0 unless the connection could not be made (2) or the arguments are
wrong (1).
"""
import argparse
import os
import random
import re
import select
import socket
import ssl
import sys
import time


def options(dst, transport, local, cid, cl="0"):
    lines = [
        f"OPTIONS sip:{dst[0]}:{dst[1]} SIP/2.0",
        f"Via: SIP/2.0/{transport} {local[0]}:{local[1]};branch=z9hG4bK-{cid}",
        "Max-Forwards: 70",
        f"From: <sip:probe@{local[0]}>;tag=t-{cid}",
        f"To: <sip:{dst[0]}:{dst[1]}>",
        f"Call-ID: {cid}",
        "CSeq: 1 OPTIONS",
    ]
    if cl != "none":
        lines.append(f"Content-Length: {cl}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


CL = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)", re.I | re.M)
CID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.eof = False

    def fill(self, deadline):
        """Read once (until deadline). False on timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.s.settimeout(left)
        try:
            data = self.s.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        self.buf += data
        return True

    def message(self, deadline):
        """The next framed message, "eof", or None on timeout. Lone CRLFs
        (keep-alive pongs) before a message are skipped."""
        while True:
            while self.buf.startswith(b"\r\n") and len(self.buf) >= 2 and not self.buf.startswith(b"\r\n\r\n"):
                self.buf = self.buf[2:]
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[:end + 4]
                m = CL.search(head)
                n = int(m.group(1)) if m else 0
                if len(self.buf) >= end + 4 + n:
                    msg, self.buf = self.buf[:end + 4 + n], self.buf[end + 4 + n:]
                    return msg
            if self.eof:
                return "eof"
            if not self.fill(deadline):
                return None


def describe(msg):
    first = msg.split(b"\r\n", 1)[0].decode("latin-1")
    m = CID.search(msg)
    cid = m.group(1).decode("latin-1") if m else "-"
    parts = first.split(" ")
    if first.startswith("SIP/2.0 ") and len(parts) > 1:
        return f"rsp {parts[1]} {cid}"
    return f"req {parts[0]} {cid}"


def out(line):
    print(line)
    sys.stdout.flush()


def run_steps(conn, steps, dst, transport, local):
    i = 0

    def arg():
        nonlocal i
        if i >= len(steps):
            raise SystemExit(f"siptcp: missing argument after {steps[i - 1]}")
        i += 1
        return steps[i - 1]

    while i < len(steps):
        verb = arg()
        try:
            if verb == "opt":
                conn.s.sendall(options(dst, transport, local, arg()))
            elif verb == "opt-split":
                data = options(dst, transport, local, arg())
                n, gap = int(arg()), float(arg()) / 1000
                for k in range(0, len(data), n):
                    conn.s.sendall(data[k:k + n])
                    time.sleep(gap)
            elif verb == "opt-batch":
                conn.s.sendall(b"".join(options(dst, transport, local, c) for c in arg().split(",")))
            elif verb == "opt-cl":
                cid = arg()
                conn.s.sendall(options(dst, transport, local, cid, arg()))
            elif verb == "partial":
                conn.s.sendall(options(dst, transport, local, arg())[:-2])
            elif verb == "raw":
                conn.s.sendall(arg().encode("latin-1").decode("unicode_escape").encode("latin-1"))
            elif verb == "expect":
                n = int(arg())
                wait = float(steps[i]) if i < len(steps) and re.fullmatch(r"[0-9.]+", steps[i]) else 3.0
                if i < len(steps) and re.fullmatch(r"[0-9.]+", steps[i]):
                    i += 1
                deadline = time.monotonic() + wait
                for _ in range(n):
                    m = conn.message(deadline)
                    if m is None:
                        out("timeout")
                        break
                    if m == "eof":
                        out("eof")
                        break
                    out(describe(m))
            elif verb == "read":
                deadline = time.monotonic() + float(arg())
                got = b""
                while not conn.eof and conn.fill(deadline):
                    got += conn.buf
                    conn.buf = b""
                got += conn.buf
                conn.buf = b""
                out(f"bytes {got!r}")
                if conn.eof:
                    out("eof")
            elif verb == "eof":
                t0 = time.monotonic()
                deadline = t0 + float(arg())
                while True:
                    m = conn.message(deadline)
                    if m is None:
                        out("open")
                        break
                    if m == "eof":
                        out(f"eof {time.monotonic() - t0:.1f}")
                        break
                    out(describe(m))
            elif verb == "sleep":
                time.sleep(float(arg()))
            elif verb == "close":
                conn.s.close()
            else:
                raise SystemExit(f"siptcp: unknown step {verb}")
        except ssl.SSLError as e:
            out(f"tls-error {e.reason or e}")
            return
        except (BrokenPipeError, ConnectionResetError) as e:
            out(f"send-error {e.__class__.__name__}")
            return


def client_hello_prefix():
    """The first bytes of a TLS 1.2 ClientHello record whose length promises
    more than is ever sent."""
    body = bytes([0x03, 0x03]) + os.urandom(32) + b"\x00" + b"\x00\x04\x13\x01\xc0\x2f" + b"\x01\x00"
    hs = b"\x01" + (512).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + (516).to_bytes(2, "big") + hs


def flood(a, dst):
    socks, refused = [], 0
    deadline = time.monotonic() + a.hold
    for k in range(a.flood):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((a.src, 0))
            s.connect_ex(dst)
        except OSError:
            refused += 1
            s.close()
            continue
        socks.append([s, False])
        if k % 20 == 19:
            time.sleep(0.02)
    # Send once each is connected: garbage or a ClientHello cut short.
    closed = 0
    while time.monotonic() < deadline:
        live = [x for x in socks if x[0] is not None]
        if not live:
            break
        wl = [x[0] for x in live if not x[1]]
        rl = [x[0] for x in live]
        r, w, _ = select.select(rl, wl, [], 0.1)
        for k, x in enumerate(live):
            s = x[0]
            if s in w and not x[1]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    refused += 1
                    s.close()
                    x[0] = None
                    continue
                if not a.silent:
                    data = client_hello_prefix() if k % 2 else os.urandom(random.randint(1, 40))
                    try:
                        s.send(data)
                    except OSError:
                        pass
                x[1] = True
            if x[0] is not None and s in r:
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b""
                if not d:
                    closed += 1
                    s.close()
                    x[0] = None
    still = sum(1 for x in socks if x[0] is not None)
    for x in socks:
        if x[0] is not None:
            x[0].close()
    out(f"flood opened {len(socks)} refused {refused} closed-by-peer {closed} still-open {still}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default="192.0.2.10")
    ap.add_argument("--dst", default="192.0.2.1:5060")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    ap.add_argument("--name")
    ap.add_argument("--timeout", type=float, default=5.0, help="connect and handshake timeout")
    ap.add_argument("--flood", type=int, default=0)
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("--silent", action="store_true", help="flood: send nothing")
    ap.add_argument("steps", nargs="*")
    a = ap.parse_args()
    host, port = a.dst.rsplit(":", 1)
    dst = (host, int(port))
    if a.flood:
        flood(a, dst)
        return 0

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((a.src, 0))
    s.settimeout(a.timeout)
    try:
        s.connect(dst)
    except OSError as e:
        out(f"connect-failed {e}")
        return 2
    local = s.getsockname()
    transport = "TCP"
    if a.tls:
        transport = "TLS"
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if a.ca:
            ctx.load_verify_locations(a.ca)
            ctx.check_hostname = True
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
        try:
            s = ctx.wrap_socket(s, server_hostname=a.name or host)
        except (ssl.SSLError, OSError) as e:
            out(f"local {local[0]}:{local[1]}")
            out(f"tls-fail {getattr(e, 'reason', None) or e}")
            return 0
    s.settimeout(None)
    out(f"local {local[0]}:{local[1]}")
    if a.tls:
        out(f"tls {s.version()}")
    run_steps(Conn(s), a.steps, dst, transport, local)
    return 0


if __name__ == "__main__":
    sys.exit(main())
