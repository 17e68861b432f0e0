#!/usr/bin/env python3
"""A TFTP client that holds its transfer open: fetches FILE from SERVER
(octet, 512-byte blocks), and after block PAUSE_AT writes that block number
to PROGRESS and waits until the file GO exists (at most 4 s, less than the
server's retries last) before it acknowledges. Writes what it got to OUT.
Exit 0 when the whole file arrived.

  slow_tftp_get.py SERVER FILE OUT PROGRESS GO [PAUSE_AT]
"""
import os
import socket
import struct
import sys
import time


def main():
    server, name, out, progress, go = sys.argv[1:6]
    pause_at = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    s.sendto(b"\x00\x01" + name.encode() + b"\x00octet\x00", (server, 69))
    data, expect, peer = b"", 1, None
    while True:
        pkt, addr = s.recvfrom(1024)
        if peer is None:
            peer = addr
        if addr != peer:
            continue
        op, block = struct.unpack("!HH", pkt[:4])
        if op == 5:
            print("ERROR from server:", pkt[4:-1].decode(errors="replace"))
            return 1
        if op != 3:
            continue
        if block == expect:
            data += pkt[4:]
            expect += 1
            if block == pause_at:
                with open(progress, "w") as f:
                    f.write("%d\n" % block)
                deadline = time.monotonic() + 4
                while not os.path.exists(go) and time.monotonic() < deadline:
                    time.sleep(0.05)
        s.sendto(struct.pack("!HH", 4, block), peer)
        if block == expect - 1 and len(pkt) - 4 < 512:
            break
    with open(out, "wb") as f:
        f.write(data)
    print("got %d bytes in %d blocks" % (len(data), expect - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
