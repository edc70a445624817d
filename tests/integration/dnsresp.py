#!/usr/bin/env python3
"""A tiny authoritative DNS responder for the sipfront lab tests.

Runs inside a lab namespace (ip netns exec sf-fe python3 dnsresp.py ...), bound
to loopback or a 198.18.0.0/15 address only. Answers A queries from a JSON zone
file that it re-reads for every query, so a test changes a record by rewriting
the file:

  {"reg.sipfront.lab": {"a": ["198.18.2.2"], "ttl": 2}, "gone.lab": {"rcode": 3}}

A name that is not in the file gets NXDOMAIN; {"rcode": 2} is SERVFAIL;
{"drop": true} answers nothing. One line per query goes to stdout:
"<unix time> <name> <what was answered>". Stops by itself after --seconds.

  dnsresp.py --bind 127.0.0.1 --port 5353 --zone FILE --seconds 300
"""

import argparse
import ipaddress
import json
import socket
import struct
import sys
import time

ALLOWED = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("198.18.0.0/15")]


def answer(query, zone):
    if len(query) < 12:
        return None, "short"
    at, labels = 12, []
    while at < len(query) and query[at] != 0:
        n = query[at]
        labels.append(query[at + 1:at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    end = at + 5  # root label, QTYPE, QCLASS
    if end > len(query):
        return None, "bad question"
    name = ".".join(labels).lower()
    rule = zone.get(name, {"rcode": 3})
    if rule.get("drop"):
        return None, f"{name} dropped"
    rcode = int(rule.get("rcode", 0))
    ips = rule.get("a", []) if rcode == 0 else []
    ttl = int(rule.get("ttl", 60))
    head = query[:2] + struct.pack("!HHHHH", 0x8180 | rcode, 1, len(ips), 0, 0)
    body = query[12:end]
    for ip in ips:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, ttl, 4) + ipaddress.ip_address(ip).packed
    what = f"A {','.join(ips)} ttl {ttl}" if ips else f"rcode {rcode}"
    return head + body, f"{name} {what}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, default=5353)
    p.add_argument("--zone", required=True)
    p.add_argument("--seconds", type=float, default=300)
    a = p.parse_args()
    if not any(ipaddress.ip_address(a.bind) in n for n in ALLOWED):
        sys.exit(f"dnsresp: {a.bind} is outside loopback and 198.18.0.0/15")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.bind, a.port))
    deadline = time.monotonic() + a.seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        sock.settimeout(min(left, 1.0))
        try:
            q, peer = sock.recvfrom(512)
        except socket.timeout:
            continue
        try:
            with open(a.zone) as f:
                zone = {k.lower(): v for k, v in json.load(f).items()}
        except (OSError, ValueError) as e:
            print(f"{time.time():.3f} zone unreadable: {e}", flush=True)
            continue
        resp, what = answer(q, zone)
        print(f"{time.time():.3f} {what}", flush=True)
        if resp is not None:
            sock.sendto(resp, peer)


if __name__ == "__main__":
    sys.exit(main())
