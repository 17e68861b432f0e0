// The TFTP half of the timeline builder: a transfer per RRQ, followed by the
// client's address and port and the server's TID, and the IPv4 fragments of
// its DATA packets.
#include <algorithm>
#include <utility>

#include "capture/timeline.h"
#include "wire/decimal.h"

namespace capture {

void TimelineBuilder::AddTftpRequest(const Frame& f, const Packet& p) {
  absl::StatusOr<wire::TftpPacket> tftp =
      wire::ParseTftpPacket(p.payload, p.payload_length);
  if (!tftp.ok() || (tftp->op != wire::TftpOpcode::kRrq &&
                     tftp->op != wire::TftpOpcode::kWrq))
    return;
  uefi_history_.ReachedFrom(p.src_ip);
  std::optional<size_t> c = ClientByIp(p.src_ip);
  if (!c && p.has_macs) {
    c = ClientFor(p.src_mac);
    LearnIp(*c, p.src_ip);
  }
  if (!c) return;
  ClientTimeline& client = t_.clients[*c];
  auto key = std::make_pair(p.src_ip, p.src_port);
  auto known = transfers_.find(key);
  if (known != transfers_.end() && known->second.client == *c) {
    TftpTransfer& old = client.transfers[known->second.transfer];
    // A retransmission: the server has not answered, or answered (pxeproxy
    // resends its OACK from the same port) and nothing moved yet.
    const bool moving = old.acked_block0 || old.acked_block1 ||
                        old.blocks > 0 || old.error || old.done;
    if (old.filename == tftp->filename && (!old.reply_ip || !moving)) {
      ++old.rrq_count;
      old.last_number = f.number;
      old.last_time = f.time;
      return;
    }
  }
  TftpTransfer t;
  t.rrq_number = t.last_number = f.number;
  t.rrq_time = t.last_time = f.time;
  t.rrq_count = 1;
  t.client_ip = p.src_ip;
  t.client_port = p.src_port;
  t.server_ip = p.dst_ip;
  t.filename = tftp->filename;
  t.rrq = *tftp;
  transfers_[key] = {*c, client.transfers.size()};
  by_source_[{*c, t.server_ip}].insert(client.transfers.size());
  client.transfers.push_back(std::move(t));
  client.events.push_back(Event{
      f.number, f.time,
      TftpEvent{TftpStep::kRrq, static_cast<int>(client.transfers.size() - 1),
                *tftp, true}});
}

namespace {

void OnData(const Frame& f, uint16_t block, size_t size, TftpTransfer& t) {
  if (block != static_cast<uint16_t>(t.last_block + 1)) return;
  t.last_block = block;
  t.bytes += size;
  ++t.blocks;
  if (size < t.blksize && !t.done) {
    t.done = true;
    t.end_number = f.number;
    t.end_time = f.time;
  }
}

void OnServerPacket(const Frame& f, const Packet& p,
                    const wire::TftpPacket& tftp, TftpTransfer& t) {
  if (tftp.op == wire::TftpOpcode::kOack) {
    t.oack_number = f.number;
    t.oack_time = f.time;
    if (auto b = wire::TftpOption(tftp, "blksize")) {
      uint64_t v = 0;
      if (wire::ParseDecimal(*b, &v) && v > 0 && v <= 65464) t.blksize = v;
    }
  } else if (tftp.op == wire::TftpOpcode::kData) {
    // A capture on the sending host sees a UDP GSO window (pxeproxy sends
    // windows with UDP_SEGMENT) as one datagram before the kernel cuts it
    // into DATA packets of blksize + 4 bytes, each with its own header.
    const size_t segment = t.blksize + 4;
    const size_t wire = tftp.data_size + 4;
    const size_t count = wire > segment ? (wire + segment - 1) / segment : 1;
    for (size_t i = 0; i < count; ++i) {
      OnData(f, static_cast<uint16_t>(tftp.block + i),
             std::min(segment, wire - i * segment) - 4, t);
    }
  } else if (tftp.op == wire::TftpOpcode::kError) {
    t.error = true;
    t.error_code = tftp.error_code;
  }
}

void OnClientPacket(const wire::TftpPacket& tftp, TftpTransfer& t) {
  if (tftp.op == wire::TftpOpcode::kAck) {
    if (tftp.block == 0) t.acked_block0 = true;
    if (tftp.block >= 1) t.acked_block1 = true;
  } else if (tftp.op == wire::TftpOpcode::kError) {
    t.error = true;
    t.error_from_client = true;
    t.error_code = tftp.error_code;
    // EDK2 asks tsize=0, reads the size from the OACK and aborts on purpose
    // (docs/protocol.md "TFTP requests and options"): not a failure.
    t.size_probe = t.oack_number != 0 && t.blocks == 0 &&
                   wire::TftpOption(t.rrq, "tsize").has_value();
  }
}

}  // namespace

bool TimelineBuilder::AddTftpTransfer(const Frame& f, const Packet& p) {
  bool from_client = true;
  auto it = transfers_.find({p.src_ip, p.src_port});
  if (it == transfers_.end()) {
    from_client = false;
    it = transfers_.find({p.dst_ip, p.dst_port});
  }
  if (it == transfers_.end()) return false;
  ClientTimeline& client = t_.clients[it->second.client];
  TftpTransfer& t = client.transfers[it->second.transfer];
  if (from_client && t.server_port != 0 && p.dst_port != t.server_port) {
    // To another TID of the server (tftpd-hpa and dnsmasq answer a
    // retransmitted RRQ from a new port): the client's ERROR 5 "unknown
    // transfer ID" there says nothing about the transfer it keeps.
    return true;
  }
  if (!from_client && t.reply_ip &&
      (p.src_port != t.server_port || p.src_ip != *t.reply_ip)) {
    return false;  // someone else talking to that port
  }
  absl::StatusOr<wire::TftpPacket> tftp =
      wire::ParseTftpPacket(p.payload, p.payload_length);
  if (!tftp.ok()) return true;
  if (!from_client && !t.reply_ip) {  // only a TFTP packet names the TID
    if (p.src_ip != t.server_ip) {
      by_source_[{it->second.client, t.server_ip}].erase(it->second.transfer);
      by_source_[{it->second.client, p.src_ip}].insert(it->second.transfer);
    }
    t.reply_ip = p.src_ip;
    t.server_port = p.src_port;
    t.first_reply_number = f.number;
    t.first_reply_time = f.time;
  }
  t.last_number = f.number;
  t.last_time = f.time;
  if (from_client) {
    OnClientPacket(*tftp, t);
  } else {
    OnServerPacket(f, p, *tftp, t);
  }
  if (tftp->op == wire::TftpOpcode::kOack ||
      tftp->op == wire::TftpOpcode::kError) {
    client.events.push_back(Event{
        f.number, f.time,
        TftpEvent{tftp->op == wire::TftpOpcode::kOack ? TftpStep::kOack
                                                      : TftpStep::kError,
                  static_cast<int>(it->second.transfer), *tftp, from_client}});
  }
  return true;
}

void TimelineBuilder::AddFragment(const Frame& f, const Packet& p) {
  std::optional<size_t> c = ClientByIp(p.dst_ip);
  if (!c) return;
  // The client's newest transfer whose packets come from that address.
  auto from = by_source_.find({*c, p.src_ip});
  if (from == by_source_.end() || from->second.empty()) return;
  TftpTransfer& t = t_.clients[*c].transfers[*from->second.rbegin()];
  if (t.fragments++ == 0) {
    t.first_fragment_number = f.number;
    t.first_fragment_time = f.time;
  }
  t.last_number = f.number;
  t.last_time = f.time;
}

}  // namespace capture
