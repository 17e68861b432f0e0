// The iPXE and TFTP scenarios: iPXE's loop and 2-second window, transfers
// blocked, refused, fragmented or cut short.
#include <cstring>

#include "tests/capture_frames.h"
#include "tests/capture_scenario_makers.h"

namespace capture_test {

namespace pd = proxydhcp;

// iPXE is offered snponly.efi again: it loads itself, and asks again.
Frames IpxeLoop(Frames in) {
  size_t disc = First(in, IpxeDiscover());
  size_t rrq2 = First(in, TftpOp(wire::TftpOpcode::kRrq),
                      First(in, TftpOp(wire::TftpOpcode::kRrq)) + 1);
  Frames round = Filter(BeforeHttp(Slice(in, disc, in.size())), IsDhcp);
  Frames tftp = Filter(Slice(in, rrq2, disc),
                       [](const Frame& f) { return Tftp(f).has_value(); });
  auto bad = [&round](uint32_t xid) {
    Frames r;
    for (const Frame& f : round) {
      r.push_back(EditDhcp(f, [xid](wire::DhcpMessage& m, wire::UdpDatagram&) {
        m.xid = xid;
        if (m.op == wire::kBootReply && m.yiaddr == 0) {
          m.file = "snponly.efi";
          m.options.SetString(wire::kOptBootfileName, "snponly.efi");
        }
      }));
    }
    return r;
  };
  tftp = Snapped(tftp);
  Frames out = Concat({Snapped(Slice(in, 0, disc)), bad(0xb3b34802)});
  for (uint32_t xid : {0xb3b34803u, 0xb3b34804u}) {
    out = Concat({out, Moved(tftp, out, 0.01)});
    out = Concat({out, Moved(bad(xid), out, 2.0)});
  }
  return out;
}

Frames IpxeLateProxy(Frames in) {
  Frames out = BeforeHttp(in);
  size_t proxy = First(out, ProxyReply(wire::kOffer));
  Frame late = out[proxy];
  out.erase(out.begin() + proxy);
  late.time = out[First(out, CorporateReply())].time + absl::Milliseconds(2500);
  size_t at = 0;
  while (at < out.size() && out[at].time < late.time) ++at;
  out.insert(out.begin() + at, late);
  return out;
}

// iPXE's 2 s count from its first DISCOVER: the corporate offer at 1.5 s,
// the proxy's at 2.5 s (only 1 s after the first offer, but iPXE has moved
// on by then).
Frames IpxeLateFromDiscovery(Frames in) {
  size_t d = First(in, IpxeDiscover());
  Frame corporate = in[First(in, CorporateReply(), d)];
  Frame proxy = in[First(in, ProxyReply(wire::kOffer), d)];
  corporate.time = in[d].time + absl::Milliseconds(1500);
  proxy.time = in[d].time + absl::Milliseconds(2500);
  return Concat({Slice(in, 0, d + 1), {corporate, proxy}});
}

Frames IpxeNoSiaddr(Frames in) {
  Frames out;
  for (const Frame& f : BeforeHttp(in)) {
    out.push_back(
        !ProxyReply(wire::kOffer)(f)
            ? f
            : EditDhcp(f, [](wire::DhcpMessage& m, wire::UdpDatagram&) {
                m.siaddr = 0;
                m.options.Erase(wire::kOptVendorSpecific);
              }));
  }
  return out;
}

Frames TftpBlocked(Frames in) {
  size_t i = First(in, TftpOp(wire::TftpOpcode::kRrq));
  Frames out = Slice(in, 0, i + 1);
  return Concat({out, {Later(in[i], 1), Later(in[i], 3), Later(in[i], 7)}});
}

// blksize 8192 accepted: every DATA is 6 IPv4 fragments, none gets through.
Frames TftpBlksizeMtu(Frames in) {
  size_t rrq2 = First(in, TftpOp(wire::TftpOpcode::kRrq),
                      First(in, TftpOp(wire::TftpOpcode::kRrq)) + 1);
  size_t oack = First(in, TftpOp(wire::TftpOpcode::kOack), rrq2);
  size_t ack0 = First(in, TftpOp(wire::TftpOpcode::kAck), oack);
  Frames out = Slice(in, 0, rrq2);
  out.push_back(WithPayload(
      in[rrq2],
      TftpRequest("snponly.efi", {{"blksize", "8192"}, {"windowsize", "4"}})));
  std::vector<uint8_t> oack_payload = {0, 6};
  for (const char* s : {"blksize", "8192"}) {
    oack_payload.insert(oack_payload.end(), s, s + strlen(s) + 1);
  }
  out.push_back(WithPayload(in[oack], oack_payload));
  out.push_back(in[ack0]);
  wire::UdpDatagram data = *Udp(in[oack]);
  data.payload = {0, 3, 0, 1};
  for (int i = 0; i < 8192; ++i) data.payload.push_back((i * 7) & 0xff);
  uint16_t id = 0x4d00;
  for (double at : {0.0002, 1.0, 3.0}) {
    Frames pieces = Fragmented(Later(in[ack0], at), data, id++);
    out = Concat({out, pieces});
  }
  return out;
}

Frames TftpOptionRefused(Frames in) {
  size_t rrq = First(in, TftpOp(wire::TftpOpcode::kRrq));
  return Concat(
      {Slice(in, 0, rrq + 1),
       {WithPayload(in[rrq + 1], TftpError(8, "Option negotiation failed"))}});
}

Frames RrqGarbage(Frames in) {
  size_t rrq = First(in, TftpOp(wire::TftpOpcode::kRrq));
  std::string name = "snponly.efi";
  name += "\x01\x88\x7f";
  return Concat({Slice(in, 0, rrq),
                 {WithPayload(in[rrq], TftpRequest(name, {{"tsize", "0"}})),
                  WithPayload(in[rrq + 1], TftpError(1, "File not found"))}});
}

Frames TftpWrongSource(Frames in) {
  size_t rrq = First(in, TftpOp(wire::TftpOpcode::kRrq));
  wire::UdpDatagram oack = *Udp(in[rrq + 1]);
  oack.src_ip = Ip("10.231.9.1");
  Frame f = WithUdp(in[rrq + 1], oack);
  return Concat({Slice(in, 0, rrq + 1), {f, Later(f, 1), Later(f, 3)}});
}

// The download stops after 40 DATA blocks: no end, no error.
Frames TftpIncomplete(Frames in) {
  size_t rrq2 = First(in, TftpOp(wire::TftpOpcode::kRrq),
                      First(in, TftpOp(wire::TftpOpcode::kRrq)) + 1);
  size_t at = rrq2;
  for (int i = 0; i < 40; ++i)
    at = First(in, TftpOp(wire::TftpOpcode::kData), at + 1);
  return Slice(in, 0, at + 1);
}

}  // namespace capture_test
