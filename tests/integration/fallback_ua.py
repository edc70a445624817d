#!/usr/bin/env python3
"""Two tiny SIP UAs for tests/integration/fallback.sh (UDP, lab addresses only).

  phone --bind IP --port P --fe IP:PORT --user U --every S --for S --log FILE
        registers U (Expires 10) every S seconds for the given time and answers
        every request it receives with 200; logs one JSON line per event:
        {"t", "event": "response", "code"} / {"t", "event": "request", "method", "ruri"}
  core  --bind IP --port P --fe IP:PORT --ruri URI [--wait S]
        sends one OPTIONS for URI to the front end's core side and prints the
        final response code it gets back (0: none within S seconds)
"""

import argparse
import ipaddress
import json
import select
import socket
import sys
import time
import uuid

LAB = ipaddress.ip_network("198.18.0.0/15")


def lab_ep(text, default_port=5060):
    host, _, port = text.partition(":")
    if ipaddress.ip_address(host) not in LAB:
        sys.exit(f"fallback_ua: refusing {host}: not inside 198.18.0.0/15")
    return host, int(port or default_port)


def headers(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
    out = []
    for line in head[1:]:
        name, _, value = line.partition(":")
        out.append((name.strip(), value.strip()))
    return head[0], out


def answer(data):
    """A 200 to request `data`: Vias, From, Call-ID, CSeq copied, To with a tag."""
    start, hs = headers(data)
    lines = ["SIP/2.0 200 OK"]
    for name, value in hs:
        low = name.lower()
        if low in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            lines.append(f"{name}: {value}")
        elif low in ("to", "t"):
            lines.append(f"{name}: {value}" + ("" if ";tag=" in value else ";tag=ua1"))
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode(), start.split(" ")


def phone(a):
    fe = lab_ep(a.fe)
    lab_ep(f"{a.bind}:{a.port}")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    log = open(a.log, "a", buffering=1)
    call_id = f"{uuid.uuid4().hex}@{a.bind}"
    cseq, next_reg, end = 0, 0.0, time.time() + getattr(a, "for")
    while time.time() < end:
        now = time.time()
        if now >= next_reg:
            cseq += 1
            msg = (f"REGISTER sip:sipfront.lab SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {a.bind}:{a.port};branch=z9hG4bK-{uuid.uuid4().hex[:16]};rport\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:{a.user}@sipfront.lab>;tag=ph{a.port}\r\n"
                   f"To: <sip:{a.user}@sipfront.lab>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                   f"Contact: <sip:{a.user}@{a.bind}:{a.port}>\r\nExpires: 10\r\nContent-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), fe)
            next_reg = now + a.every
        r, _, _ = select.select([s], [], [], max(0.0, min(next_reg, end) - time.time()))
        if not r:
            continue
        data, src = s.recvfrom(65535)
        if data.startswith(b"SIP/2.0 "):
            log.write(json.dumps({"t": time.time(), "event": "response", "code": int(data[8:11])}) + "\n")
            continue
        resp, start = answer(data)
        if start[0] != "ACK":
            s.sendto(resp, src)
        log.write(json.dumps({"t": time.time(), "event": "request", "method": start[0],
                              "ruri": start[1] if len(start) > 1 else ""}) + "\n")


def core(a):
    fe = lab_ep(a.fe)
    lab_ep(f"{a.bind}:{a.port}")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    msg = (f"OPTIONS {a.ruri} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {a.bind}:{a.port};branch=z9hG4bK-core-{uuid.uuid4().hex[:12]};rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:core@{a.bind}>;tag=c1\r\nTo: <{a.ruri}>\r\n"
           f"Call-ID: {uuid.uuid4().hex}@{a.bind}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
    end, next_send = time.time() + a.wait, 0.0
    while time.time() < end:
        if time.time() >= next_send:
            s.sendto(msg, fe)  # retransmitted every 0.5 s (the relay is stateless)
            next_send = time.time() + 0.5
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            data, _ = s.recvfrom(65535)
            if data.startswith(b"SIP/2.0 ") and int(data[8:11]) >= 200:
                print(int(data[8:11]))
                return
    print(0)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    ph = sub.add_parser("phone")
    ph.add_argument("--bind", required=True)
    ph.add_argument("--port", type=int, required=True)
    ph.add_argument("--fe", required=True)
    ph.add_argument("--user", required=True)
    ph.add_argument("--every", type=float, default=4.0)
    ph.add_argument("--for", type=float, required=True)
    ph.add_argument("--log", required=True)
    co = sub.add_parser("core")
    co.add_argument("--bind", required=True)
    co.add_argument("--port", type=int, required=True)
    co.add_argument("--fe", required=True)
    co.add_argument("--ruri", required=True)
    co.add_argument("--wait", type=float, default=5.0)
    a = p.parse_args()
    phone(a) if a.cmd == "phone" else core(a)


if __name__ == "__main__":
    main()
