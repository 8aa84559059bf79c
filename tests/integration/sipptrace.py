#!/usr/bin/env python3
"""Checks on the SIPp message traces (-trace_msg) of one call through sipline.

    sipptrace.py UAC.msg UAS.msg RR UAS_CONTACT

RR is the Record-Route set of sipline's the callee must see, top first,
comma-separated TRANSPORT:PORT items (udp:5060, tcp:5060, tls:5061): one
when the call stays on one transport, two when it crosses transports
(RFC 5658 double Record-Route: the top one for the callee's side). Checks:

  - the INVITE the callee got has sipline's Via on top with the
    transport and port of the first RR item, and exactly the RR values of
    sipline's that RR lists, in order (a value's transport is its
    ;transport= parameter, udp when there is none);
  - the caller's 200 for the INVITE carries the same values;
  - the caller's ACK and BYE carry them in a Route header, reversed;
  - the callee's ACK and BYE have sipline's Via on top (the callee's
    transport), no Route left, and the callee's Contact as Request-URI.

Prints every problem; exit 0 when there is none.
"""
import re
import sys

SEP = re.compile(r"^-{20,}[^\n]*\n", re.M)


def messages(path):
    """[(what, text)] in file order; what is SIPp's line, e.g. "TCP message
    received [261] bytes :"."""
    out = []
    for block in SEP.split(open(path, encoding="latin-1").read()):
        if "\n\n" not in block:
            continue
        what, text = block.split("\n\n", 1)
        text = text.strip("\n")
        if text:
            out.append((what.strip(), text.replace("\r\n", "\n")))
    return out


def pick(ms, start, sent, cseq=None):
    """The first message starting with `start`, sent by (sent=True) or
    received by the trace's owner; for responses, of the CSeq method."""
    for what, text in ms:
        if (" sent" in what) != sent or not text.startswith(start):
            continue
        if cseq and not re.search(r"^CSeq:\s*\d+\s+" + cseq + r"\s*$", text, re.M | re.I):
            continue
        return text
    return None


def values(text, names):
    """Every value of the headers `names` (lower case), comma lists split."""
    vals = []
    for line in text.split("\n\n", 1)[0].split("\n")[1:]:
        name, sep, v = line.partition(":")
        if sep and name.strip().lower() in names:
            vals += [x.strip() for x in v.split(",") if x.strip()]
    return vals


def transport_of(uri):
    m = re.search(r";transport=([a-z]+)", uri, re.I)
    return m.group(1).lower() if m else "udp"


def ours(vals):
    """Record-Route/Route values naming sipline (192.0.2.1), as
    TRANSPORT:PORT."""
    out = []
    for v in vals:
        m = re.match(r"<sips?:192\.0\.2\.1:([0-9]+)([^>]*)>", v)
        if m:
            out.append(f"{transport_of(m.group(2))}:{m.group(1)}")
    return out


def main():
    uac_path, uas_path, rr, contact = sys.argv[1:5]
    want = rr.split(",")
    uac, uas = messages(uac_path), messages(uas_path)
    problems = []

    def need(cond, what, text):
        if not cond:
            problems.append(f"{what}:\n{text}\n")

    inv = pick(uas, "INVITE ", False)
    if inv is None:
        print("the callee got no INVITE")
        return 1
    rr_uas = values(inv, ("record-route",))
    need(ours(rr_uas) == want, f"callee's INVITE: sipline's Record-Route {ours(rr_uas)}, want {want}", inv)
    tr, port = want[0].split(":")
    via = values(inv, ("via", "v"))
    need(via and via[0].upper().startswith(f"SIP/2.0/{tr.upper()} 192.0.2.1:{port};"),
         f"callee's INVITE: top Via {via[:1]}, want sipline's over {tr.upper()}", inv)

    ok200 = pick(uac, "SIP/2.0 200", False, "INVITE")
    if ok200 is None:
        print("the caller got no 200 for its INVITE")
        return 1
    need(ours(values(ok200, ("record-route",))) == want, f"caller's 200: Record-Route {ours(values(ok200, ('record-route',)))}", ok200)
    for method in ("ACK", "BYE"):
        sent = pick(uac, method + " ", True)
        got = pick(uas, method + " ", False)
        if sent is None or got is None:
            problems.append(f"{method}: sent by the caller {sent is not None}, got by the callee {got is not None}")
            continue
        need(ours(values(sent, ("route",))) == want[::-1],
             f"caller's {method}: Route {ours(values(sent, ('route',)))}, want {want[::-1]}", sent)
        need(not values(got, ("route",)), f"callee's {method}: Route left", got)
        v = values(got, ("via", "v"))
        need(v and v[0].upper().startswith(f"SIP/2.0/{tr.upper()} 192.0.2.1:{port};"),
             f"callee's {method}: top Via {v[:1]}", got)
        need(got.startswith(f"{method} {contact} "), f"callee's {method}: Request-URI, want {contact}", got)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
