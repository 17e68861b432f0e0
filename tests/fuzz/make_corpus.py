#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora (tests/fuzz/corpus/<harness>/) from the
real captures in tests/fixtures/captures and tests/e2e/fixtures, plus a few
synthetic inputs (TFTP requests with options, session event sequences).

    tests/fuzz/make_corpus.py            # rewrites tests/fuzz/corpus/

Deterministic: the same captures give the same files (named by content
hash), so a re-run after a new capture shows as a plain git diff. Keeps the
total small (well under 1 MB): TFTP DATA and HTTP payload frames are mostly
left out, they add little coverage. Each file's layout is the one its
harness's header comment describes.
"""
import hashlib
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CAPTURE_DIRS = [os.path.join(ROOT, "tests/fixtures/captures"),
                os.path.join(ROOT, "tests/e2e/fixtures")]
OUT = os.path.join(HERE, "corpus")
HARNESSES = ["udp_frame", "dhcp", "decide", "tftp_packet", "tftp_admit",
             "tftp_session", "diagnose"]


def read_pcap(path):
    """(linktype, [(sec, usec, bytes)]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a classic pcap" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    frames, at = [], 24
    while at + 16 <= len(data):
        sec, usec, caplen, _ = struct.unpack(e + "IIII", data[at:at + 16])
        frames.append((sec, usec, data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return linktype, frames


def write_pcap(frames):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for sec, usec, b in frames:
        out += struct.pack("<IIII", sec, usec, len(b), len(b)) + b
    return out


def udp_of(frame):
    """(ip_offset, src_port, dst_port, payload) of an Ethernet IPv4/UDP
    frame, or None."""
    if len(frame) < 14 + 28:
        return None
    off, etype = 14, struct.unpack(">H", frame[12:14])[0]
    if etype == 0x8100:
        off, etype = 18, struct.unpack(">H", frame[16:18])[0]
    if etype != 0x0800 or frame[off] >> 4 != 4 or frame[off + 9] != 17:
        return None
    ihl = (frame[off] & 15) * 4
    if struct.unpack(">H", frame[off + 6:off + 8])[0] & 0x3fff:
        return None  # a fragment
    u = off + ihl
    sport, dport, ulen = struct.unpack(">HHH", frame[u:u + 6])
    return off, sport, dport, frame[u + 8:u + ulen]


class Corpus:
    def __init__(self):
        self.files = {h: {} for h in HARNESSES}

    def add(self, harness, data):
        name = hashlib.sha1(data).hexdigest()[:16]
        self.files[harness][name] = bytes(data)

    def write(self):
        if os.path.isdir(OUT):
            shutil.rmtree(OUT)
        total = 0
        for h, files in self.files.items():
            os.makedirs(os.path.join(OUT, h))
            for name, data in sorted(files.items()):
                with open(os.path.join(OUT, h, name), "wb") as f:
                    f.write(data)
                total += len(data)
            print("%-13s %4d files %8d bytes" % (
                h, len(files), sum(len(d) for d in files.values())))
        print("total %d bytes" % total)


def tftp_op(payload):
    return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0


def rrq(name, mode="octet", *opts):
    b = b"\x00\x01" + name.encode() + b"\x00" + mode.encode() + b"\x00"
    for o in opts:
        b += o.encode() + b"\x00"
    return b


def main():
    c = Corpus()
    captures = sorted(os.path.join(d, f) for d in CAPTURE_DIRS
                      for f in os.listdir(d) if f.endswith(".pcap"))
    decide_n = 0
    for path in captures:
        link, frames = read_pcap(path)
        if link != 1:
            continue
        kept = []  # frames for the diagnose seed of this capture
        data_seen = 0
        for sec, usec, fr in frames:
            u = udp_of(fr)
            if u is None:
                # TCP (HTTP): the SYN-less segments carrying a GET are small.
                if len(fr) < 400:
                    kept.append((sec, usec, fr))
                continue
            off, sport, dport, pl = u
            dhcp = {sport, dport} & {67, 68, 4011}
            op = tftp_op(pl)
            if dhcp:
                c.add("udp_frame", fr)
                c.add("dhcp", pl)
                if dport in (67, 4011) and pl[:1] == b"\x01":
                    cfg = decide_n % 7
                    c.add("decide", bytes([cfg, 0, 2]) + fr)
                    c.add("decide", bytes([(cfg + 3) % 7, 0x20, 0]) + fr)
                    # Built form: source 0.0.0.0 or 10.231.0.141, 67 or 4011.
                    c.add("decide", bytes([cfg, 0, 1, 0x08 if dport == 4011
                                           else 0, 0x12 if dport == 4011
                                           else 0x01]) + pl)
                    decide_n += 1
                kept.append((sec, usec, fr))
            elif op in (1, 2, 4, 5, 6) or dport == 69:
                if op != 4 or data_seen < 8:
                    c.add("udp_frame", fr)
                    c.add("tftp_packet", pl)
                if op == 1:
                    for lim in (0x00, 0x13, 0x70):
                        c.add("tftp_admit", bytes([lim, 0x00, 0x20]) + pl)
                kept.append((sec, usec, fr))
            elif op == 3:
                data_seen += 1
                if data_seen <= 4 or len(pl) < 512:
                    kept.append((sec, usec, fr))
            else:
                kept.append((sec, usec, fr))
        # Frames form: [0x00 (Ethernet), config] + (len, ms step, bytes)...
        seed = bytearray([0x00, 0x09])
        last = None
        for sec, usec, fr in kept:
            t = sec * 1000 + usec // 1000
            step = 0 if last is None else max(0, min(65535, t - last))
            last = t
            seed += struct.pack(">HH", len(fr), step) + fr
            if len(seed) > 48000:
                break
        c.add("diagnose", bytes(seed))
        # Capture-file form: [0x01, config] + the first frames as a pcap.
        c.add("diagnose", bytes([0x01, 0x01]) + write_pcap(kept[:40]))

    # Synthetic TFTP requests: options, netascii, WRQ, garbage after.
    reqs = [
        rrq("f1000"), rrq("menu", "netascii"), rrq("big", "octet", "blksize",
                                                   "8"),
        rrq("snponly.efi", "octet", "blksize", "1468", "tsize", "0",
            "windowsize", "4", "timeout", "1"),
        rrq("undionly.kpxe", "OCTET", "BLKSIZE", "65464", "windowsize",
            "64"),
        rrq("f1000", "octet", "tsize", "0", "blksize", "7"),
        rrq("empty", "netascii", "tsize", "0", "timeout", "255"),
        rrq("b512", "octet", "windowsize", "16") + b"\x00\x00\x00",
        rrq("../etc/passwd"), rrq("denied"), rrq("menu", "mail"),
        b"\x00\x02f1000\x00octet\x00", b"\x00\x04\x00\x01",
        b"\x00\x05\x00\x08tsize probe\x00", b"\x00\x06blksize\x00512\x00",
    ]
    for r in reqs:
        c.add("tftp_packet", r)
        for lim, occ, same in ((0, 0, 0x20), (0x10, 0x11, 0x21),
                               (0x60, 0xf3, 0x42)):
            c.add("tftp_admit", bytes([lim, occ, same]) + r)

    # Session: 8 parameter bytes, then events (0/1 ACK inside the window,
    # 2 duplicate, 3 any number, 4/5 timeout, 6 ERROR, 7 whole window).
    params = [bytes([0x01, 0, 0x10, 0, 0, 0x00, 10, 0]),      # 4 KiB, 512
              bytes([0x01, 0, 0x10, 0, 3, 0x01, 10, 0]),      # windowsize 4
              bytes([0x00, 0x08, 0, 3, 15, 0x02, 1, 0]),      # blksize 8
              bytes([0x02, 0, 0x20, 1, 7, 0x05, 50, 1, 20]),  # netascii, oack
              bytes([0x03, 0, 0, 0, 0, 0x00, 10, 0])]         # empty file
    events = [bytes([7] * 40), bytes([0, 5, 1, 9, 2, 4, 7, 7, 3, 0, 0, 7] * 4),
              bytes([4, 4, 7, 2, 2, 2, 7, 5, 6]), bytes([3, 0xff, 0xff] * 10),
              bytes([7, 4] * 30)]
    for p in params:
        for e in events:
            c.add("tftp_session", p + e)
    c.write()


if __name__ == "__main__":
    sys.exit(main())
