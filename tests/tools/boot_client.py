#!/usr/bin/env python3
"""A synthetic network-boot client for the namespace tests: DHCP DISCOVER
from a chosen MAC, architecture and vendor class (AF_PACKET), optionally
dropping proxy offers that carry option 43 or that lack it (the two ways
real UEFI firmware turns down a proxy offer), a port 4011 request when the
offer has no 43, then a TFTP read of the boot file. Each try uses a new xid,
as firmware restarting its boot does. Prints one line per step; exits 0 when
a file was read over TFTP.

  boot_client.py IFACE --ip=A.B.C.D [--mac=..] [--arch=N] [--vc=STR]
      [--drop=with43|without43] [--tries=N] [--wait=SEC] [--tftp_file=NAME]
      [--expect_menu=STR]
"""
import argparse, os, random, socket, struct, sys, time

ETH_P_IP = 0x0800


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(mac, payload):
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     b"\0" * 4, b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\xff" * 6 + mac + struct.pack("!H", ETH_P_IP) + ip + udp


def dhcp(mac, xid, msgtype, arch, vc, ciaddr=b"\0" * 4, requested=None):
    hdr = struct.pack("!BBBBIHH4s4s4s4s", 1, 1, 6, 0, xid, 0, 0x8000, ciaddr,
                      b"\0" * 4, b"\0" * 4, b"\0" * 4)
    hdr += mac + b"\0" * 10 + b"\0" * 192 + b"\x63\x82\x53\x63"
    opts = bytes([53, 1, msgtype, 55, 5, 1, 3, 43, 60, 67])
    opts += bytes([60, len(vc)]) + vc.encode()
    opts += bytes([93, 2]) + struct.pack("!H", arch) + bytes([94, 3, 1, 3, 0])
    if requested:
        opts += bytes([50, 4]) + requested
    opts += bytes([97, 17, 0]) + mac * 2 + mac[:4] + b"\xff"
    return hdr + opts


def parse(p):
    if len(p) < 240 or p[236:240] != b"\x63\x82\x53\x63":
        return None
    m = {"op": p[0], "xid": struct.unpack("!I", p[4:8])[0],
         "yiaddr": socket.inet_ntoa(p[16:20]),
         "siaddr": socket.inet_ntoa(p[20:24]),
         "file": p[108:236].split(b"\0")[0].decode(errors="replace"), "opt": {}}
    i = 240
    while i < len(p) and p[i] != 255:
        if p[i] == 0:
            i += 1
            continue
        if i + 1 >= len(p):
            break
        m["opt"][p[i]] = p[i + 2:i + 2 + p[i + 1]]
        i += 2 + p[i + 1]
    return m


def tftp_get(server, name, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(b"\0\1" + name.encode() + b"\0octet\0", (server, 69))
    got, expect = 0, 1
    while True:
        data, peer = s.recvfrom(70000)
        op, blk = struct.unpack("!HH", data[:4])
        if op == 5:
            raise RuntimeError("TFTP error %d %r" % (blk, data[4:-1]))
        if op == 3 and blk == expect:
            got += len(data) - 4
            s.sendto(struct.pack("!HH", 4, blk), peer)
            expect = (expect + 1) & 0xFFFF
            if len(data) - 4 < 512:
                return got


def main():
    a = argparse.ArgumentParser()
    a.add_argument("iface")
    a.add_argument("--ip", required=True)
    a.add_argument("--mac", default="52:54:00:12:34:56")
    a.add_argument("--arch", type=int, default=7)
    a.add_argument("--vc", default=None)
    a.add_argument("--drop", choices=["with43", "without43"], default=None)
    a.add_argument("--tries", type=int, default=4)
    a.add_argument("--wait", type=float, default=2.0)
    a.add_argument("--tftp_file", default=None)
    a.add_argument("--expect_menu", default=None)
    o = a.parse_args()
    mac = bytes(int(x, 16) for x in o.mac.split(":"))
    vc = o.vc or "PXEClient:Arch:%05d:UNDI:003016" % o.arch
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    raw.bind((o.iface, 0))
    raw.settimeout(0.2)
    for attempt in range(1, o.tries + 1):
        xid = random.getrandbits(32)
        raw.send(frame(mac, dhcp(mac, xid, 1, o.arch, vc)))
        print("try %d: DISCOVER xid=0x%08x" % (attempt, xid), flush=True)
        end = time.time() + o.wait
        offer = None
        while time.time() < end and offer is None:
            try:
                f = raw.recv(65535)
            except socket.timeout:
                continue
            if len(f) < 42 or f[23] != 17 or struct.unpack("!H", f[36:38])[0] != 68:
                continue
            ihl = (f[14] & 15) * 4
            m = parse(f[14 + ihl + 8:])
            if not m or m["op"] != 2 or m["xid"] != xid or m["yiaddr"] != "0.0.0.0":
                continue
            has43 = 43 in m["opt"]
            print("  proxy offer: siaddr=%s file=%r 43=%s" %
                  (m["siaddr"], m["file"], m["opt"].get(43, b"").hex() or "-"))
            if (o.drop == "with43" and has43) or (o.drop == "without43" and not has43):
                print("  dropped (emulating firmware that drops it)")
                continue
            offer = m
        if offer is None:
            continue
        if o.expect_menu is not None:
            if o.expect_menu.encode() not in offer["opt"].get(43, b""):
                print("no_boot: option 43 lacks %r" % o.expect_menu)
                return 1
        # The REQUEST to the (absent) DHCP server for the address it offered,
        # as firmware sends before 4011 and TFTP.
        raw.send(frame(mac, dhcp(mac, xid, 3, o.arch, vc,
                                 requested=socket.inet_aton(o.ip))))
        name = offer["file"]
        server = offer["siaddr"]
        if vc.startswith("HTTPClient"):
            print("http_boot url=%s" % name)  # fetched over HTTP, not here
            return 0
        if 43 not in offer["opt"]:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            u.bind((o.ip, 4011))
            u.settimeout(2.0)
            req = dhcp(mac, xid, 3, o.arch, vc, socket.inet_aton(o.ip))
            u.sendto(req, (server, 4011))
            try:
                ack = parse(u.recvfrom(2048)[0])
            except socket.timeout:
                print("  no 4011 ACK")
                continue
            print("  4011 ACK: siaddr=%s file=%r" % (ack["siaddr"], ack["file"]))
            name, server = ack["file"], ack["siaddr"]
        name = o.tftp_file or name
        n = tftp_get(server, name)
        print("reached_tftp file=%s bytes=%d tries=%d" % (name, n, attempt))
        return 0
    print("no_boot: no usable offer in %d tries" % o.tries)
    return 1


if __name__ == "__main__":
    sys.exit(main())
