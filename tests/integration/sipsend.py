#!/usr/bin/env python3
"""Raw SIP-over-UDP sender/receiver for the sipfront integration tests.

Runs inside a lab namespace (ip netns exec sf-ua python3 sipsend.py ...).
Every destination must be inside 198.18.0.0/15 (or loopback); anything else
is refused. Output is one JSON object per line on stdout.

  probe    --dst IP:PORT --bind IP [--wait S]
           OPTIONS until a 200 arrives or S seconds pass; exit 0 on 200.
  files    --dst IP:PORT --bind IP [--window S] FILE...
           Sends each file's bytes unchanged, one datagram each, from the port
           its responses are addressed to (RFC 3261 18.2.2: the top Via's
           sent-by port, default 5060; the source port with rport), and
           collects every datagram received during S seconds after it.
           {"file", "callid", "port", "codes": [...], "callids": [...]}
  retrans  --dst IP:PORT --bind IP [--count N] [--spread S] [--wait S] [--callid ID]
           One REGISTER (no credentials) sent N times within S seconds, same
           bytes (same branch), then collects responses for --wait seconds.
           {"callid", "sends": [t...], "responses": [{"t", "code", "digest"}]}
  register --dst IP:PORT --bind IP [--wait S] [--callid ID] [--user U]
           One REGISTER (sent once: the front end retransmits upstream by
           itself); waits up to S seconds for a final response.
           {"callid", "code", "elapsed", "provisional": [...]}
"""

import argparse
import hashlib
import ipaddress
import json
import os
import re
import select
import socket
import sys
import time

LAB_NETS = [ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("127.0.0.0/8")]


def die(msg, code=2):
    print(f"sipsend: error: {msg}", file=sys.stderr)
    sys.exit(code)


def lab_ip(text):
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        die(f"not an IPv4 address: {text}")
    if ip.version != 4 or not any(ip in n for n in LAB_NETS):
        die(f"refusing {text}: not inside 198.18.0.0/15")
    return str(ip)


def endpoint(text):
    host, _, port = text.partition(":")
    return lab_ip(host), int(port or 5060)


def status_code(data):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", data)
    return int(m.group(1)) if m else None


def header(data, long_name, short_name=None):
    """First value of a header (long or compact name), or None."""
    head = data.split(b"\r\n\r\n", 1)[0]
    names = [long_name.lower()] + ([short_name.lower()] if short_name else [])
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower().decode("latin-1") in names:
            return value.strip().decode("latin-1")
    return None


def reply_port(data):
    """Port the responses to this request are sent to: the top Via's sent-by
    port (default 5060), or None when the Via asks for rport (then any)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if not sep or name.strip().lower() not in ("via", "v"):
            continue
        m = re.match(r"\s*SIP\s*/\s*[^/\s]+\s*/\s*\S+\s+(\[[^\]]*\]|[^\s;:,]+)(?:\s*:\s*(\d+))?([^,]*)", value)
        if not m:
            return 5060
        params = m.group(3) or ""
        if re.search(r";\s*rport(?=[\s;=,]|$)", params, re.I):
            return None
        try:
            port = int(m.group(2)) if m.group(2) else 5060
        except ValueError:
            return 5060
        return port if 0 < port < 65536 else 5060
    return 5060


def open_socket(bind_ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind_ip, port))
    return s


def collect(sock, until):
    """Datagrams received on sock until the monotonic deadline: [(t, bytes)]."""
    got = []
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return got
        r, _, _ = select.select([sock], [], [], left)
        if r:
            data, _ = sock.recvfrom(65535)
            got.append((time.monotonic(), data))


def new_tag():
    return os.urandom(6).hex()


def build_request(method, dst, local, callid, branch, cseq=1, user="probe", expires=None):
    ruri_host = f"{dst[0]}:{dst[1]}"
    lines = [
        f"{method} sip:{ruri_host} SIP/2.0",
        f"Via: SIP/2.0/UDP {local[0]}:{local[1]};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{dst[0]}>;tag={new_tag()}",
        f"To: <sip:{user}@{dst[0]}>",
        f"Call-ID: {callid}",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:{user}@{local[0]}:{local[1]}>",
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    lines += ["User-Agent: sipfront-it-sipsend", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def cmd_probe(a):
    dst = endpoint(a.dst)
    bind = lab_ip(a.bind)
    sock = open_socket(bind, a.port)
    local = (bind, sock.getsockname()[1])
    deadline = time.monotonic() + a.wait
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        callid = f"probe-{os.urandom(6).hex()}@{bind}"
        req = build_request("OPTIONS", dst, local, callid, "z9hG4bK" + os.urandom(6).hex())
        sock.sendto(req, dst)
        for _, data in collect(sock, min(deadline, time.monotonic() + a.interval)):
            if status_code(data) == 200 and header(data, "call-id", "i") == callid:
                print(json.dumps({"ok": True, "tries": tries, "callid": callid}))
                return 0
    print(json.dumps({"ok": False, "tries": tries}))
    return 1


def cmd_files(a):
    dst = endpoint(a.dst)
    bind = lab_ip(a.bind)
    for path in a.files:
        data = open(path, "rb").read()
        port = reply_port(data)
        sock = open_socket(bind, port if port is not None else 0)
        sock.sendto(data, dst)
        got = collect(sock, time.monotonic() + a.window)
        sock.close()
        print(json.dumps({
            "file": os.path.basename(path).rsplit(".", 1)[0],
            "callid": header(data, "call-id", "i"),
            "port": port if port is not None else "rport",
            "codes": [status_code(d) for _, d in got],
            "callids": [header(d, "call-id", "i") for _, d in got],
        }), flush=True)
    return 0


def cmd_retrans(a):
    dst = endpoint(a.dst)
    bind = lab_ip(a.bind)
    sock = open_socket(bind, a.port)
    local = (bind, sock.getsockname()[1])
    callid = a.callid or f"retrans-{os.urandom(6).hex()}@{bind}"
    req = build_request("REGISTER", dst, local, callid, "z9hG4bK" + os.urandom(8).hex(),
                        user=a.user, expires=60)
    t0 = time.monotonic()
    sends, got = [], []
    gap = a.spread / max(1, a.count - 1)
    for i in range(a.count):
        sends.append(time.monotonic() - t0)
        sock.sendto(req, dst)
        if i + 1 < a.count:
            got += collect(sock, time.monotonic() + gap)
    got += collect(sock, time.monotonic() + a.wait)
    print(json.dumps({
        "callid": callid,
        "sends": [round(t, 4) for t in sends],
        "responses": [{"t": round(t - t0, 4), "code": status_code(d),
                       "callid": header(d, "call-id", "i"),
                       "digest": hashlib.sha1(d).hexdigest()[:16]} for t, d in got],
    }))
    return 0


def cmd_register(a):
    dst = endpoint(a.dst)
    bind = lab_ip(a.bind)
    sock = open_socket(bind, a.port)
    local = (bind, sock.getsockname()[1])
    callid = a.callid or f"reg-{os.urandom(6).hex()}@{bind}"
    req = build_request("REGISTER", dst, local, callid, "z9hG4bK" + os.urandom(8).hex(),
                        user=a.user, expires=60)
    t0 = time.monotonic()
    sock.sendto(req, dst)
    deadline = t0 + a.wait
    provisional = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print(json.dumps({"callid": callid, "code": None, "elapsed": None,
                              "provisional": provisional}))
            return 1
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        data, _ = sock.recvfrom(65535)
        code = status_code(data)
        if header(data, "call-id", "i") != callid or code is None:
            continue
        if code < 200:
            provisional.append(code)
            continue
        print(json.dumps({"callid": callid, "code": code,
                          "elapsed": round(time.monotonic() - t0, 3),
                          "provisional": provisional}))
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp, port=0):
        sp.add_argument("--dst", required=True, help="IP[:PORT] inside 198.18.0.0/15")
        sp.add_argument("--bind", required=True, help="local IP")
        sp.add_argument("--port", type=int, default=port, help="local UDP port (0: any)")

    sp = sub.add_parser("probe")
    common(sp)
    sp.add_argument("--wait", type=float, default=5.0)
    sp.add_argument("--interval", type=float, default=0.5)
    sp.set_defaults(fn=cmd_probe)

    sp = sub.add_parser("files")
    common(sp)
    sp.add_argument("--window", type=float, default=0.5)
    sp.add_argument("files", nargs="+")
    sp.set_defaults(fn=cmd_files)

    sp = sub.add_parser("retrans")
    common(sp)
    sp.add_argument("--count", type=int, default=5)
    sp.add_argument("--spread", type=float, default=0.05)
    sp.add_argument("--wait", type=float, default=2.0)
    sp.add_argument("--callid")
    sp.add_argument("--user", default="retrans")
    sp.set_defaults(fn=cmd_retrans)

    sp = sub.add_parser("register")
    common(sp)
    sp.add_argument("--wait", type=float, default=10.0)
    sp.add_argument("--callid")
    sp.add_argument("--user", default="timeout")
    sp.set_defaults(fn=cmd_register)

    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
