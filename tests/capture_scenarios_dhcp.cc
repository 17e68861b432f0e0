// The DHCP and port 4011 scenarios: corporate and proxy replies dropped,
// doubled, relayed or altered.
#include "tests/capture_frames.h"
#include "tests/capture_scenario_makers.h"

namespace capture_test {

namespace pd = proxydhcp;

namespace {

Frame ArmDiscover(const Frame& f) {
  return EditDhcp(f, [](wire::DhcpMessage& m, wire::UdpDatagram&) {
    m.options.SetU16(wire::kOptClientArch, wire::kArchEfiArm64);
    m.options.SetString(wire::kOptVendorClass,
                        "PXEClient:Arch:00011:UNDI:003000");
  });
}

}  // namespace

Frames CorporateBootFile(Frames in) {
  Frames out;
  for (const Frame& f : BeforeHttp(in)) {
    if (!CorporateReply()(f)) {
      out.push_back(f);
      continue;
    }
    out.push_back(EditDhcp(f, [](wire::DhcpMessage& m, wire::UdpDatagram&) {
      m.file = "pxelinux.0";
      m.siaddr = Ip("10.231.0.99");
      m.options.SetString(wire::kOptTftpServerName, "10.231.0.99");
      m.options.SetString(wire::kOptBootfileName, "pxelinux.0");
    }));
  }
  // iPXE boots the corporate file from the corporate next-server.
  wire::UdpDatagram offer = *Udp(in[First(in, CorporateReply())]);
  wire::UdpDatagram rrq;
  rrq.src_mac = offer.dst_mac;
  rrq.dst_mac = offer.src_mac;
  rrq.src_ip = Ip("10.231.0.142");
  rrq.dst_ip = Ip("10.231.0.99");
  rrq.src_port = 2070;
  rrq.dst_port = 69;
  rrq.payload =
      TftpRequest("pxelinux.0", {{"blksize", "1432"}, {"tsize", "0"}});
  Frame f = WithUdp(out.back(), rrq);
  return Concat({out, Moved({f}, out, 0.05), Moved({f}, out, 1.05),
                 Moved({f}, out, 3.05)});
}

Frames TwoProxies(Frames in) {
  size_t i = First(in, ProxyReply(wire::kOffer));
  Frame other = EditDhcp(in[i], [](wire::DhcpMessage& m, wire::UdpDatagram& u) {
    m.siaddr = Ip("10.231.0.3");
    m.options.SetIpv4(wire::kOptServerId, Ip("10.231.0.3"));
    u.src_ip = Ip("10.231.0.3");
    u.src_mac = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x03};
  });
  in.insert(in.begin() + i + 1, Later(other, 0.0004));
  return Snapped(in);
}

Frames BinlUnanswered(Frames in) {
  size_t i = First(in, Binl(wire::kBootRequest));
  Frames out = Slice(in, 0, i + 1);
  return Concat({out, {Later(in[i], 2), Later(in[i], 6), Later(in[i], 14)}});
}

Frames RelayBroadcast(Frames in) {
  const wire::Ipv4 relay = Ip("10.231.5.1");
  const wire::MacAddr relay_mac = {0x52, 0x54, 0x00, 0x00, 0x05, 0x01};
  wire::UdpDatagram corp = *Udp(in[First(in, CorporateReply())]);
  wire::UdpDatagram proxy = *Udp(in[First(in, ProxyReply(wire::kOffer))]);
  Frames out;
  for (const Frame& f : BeforeHttp(in)) {
    auto m = Dhcp(f);
    if (!m) continue;
    if (m->op == wire::kBootRequest) {
      for (const wire::UdpDatagram* helper : {&corp, &proxy}) {
        out.push_back(
            EditDhcp(f, [&](wire::DhcpMessage& r, wire::UdpDatagram& u) {
              r.giaddr = relay;
              r.hops = 1;
              u.src_ip = relay;
              u.src_port = u.dst_port = pd::kDhcpServerPort;
              u.dst_ip = helper->src_ip;
              u.src_mac = relay_mac;
              u.dst_mac = helper->src_mac;
            }));
      }
    } else if (m->yiaddr != 0) {  // the corporate server does it right
      out.push_back(
          EditDhcp(f, [&](wire::DhcpMessage& r, wire::UdpDatagram& u) {
            r.giaddr = relay;
            u.dst_ip = relay;
            u.dst_port = pd::kDhcpServerPort;
            u.dst_mac = relay_mac;
          }));
    } else {  // the proxy broadcasts on its own segment: lost
      out.push_back(EditDhcp(f, [&](wire::DhcpMessage& r, wire::UdpDatagram&) {
        r.giaddr = relay;
      }));
    }
  }
  return out;
}

Frames Arm64NoBootFile(Frames in) {
  size_t disc = First(in, ClientDhcp(wire::kDiscover));
  Frame offer = in[First(in, CorporateReply())];
  Frames out = Concat({Slice(in, 0, disc), {ArmDiscover(in[disc])}, {offer}});
  return Retries(out, ArmDiscover(in[disc]), {Later(offer, 0)}, {4, 8});
}

Frames Edk2Drop(Frames in) {
  size_t disc = First(in, ClientDhcp(wire::kDiscover));
  Frame corp = in[First(in, CorporateReply())];
  Frame proxy = EditDhcp(in[First(in, ProxyReply(wire::kOffer))],
                         [](wire::DhcpMessage& m, wire::UdpDatagram&) {
                           m.options.Set(wire::kOptVendorSpecific,
                                         {6, 1, 3, 10, 4, 0, 'P', 'X', 'E', 9,
                                          5, 0x80, 0x00, 2, 'g', 'o', 255});
                         });
  Frames out = Concat({Slice(in, 0, disc + 1), {corp, proxy}});
  return Retries(out, in[disc], {corp, Later(proxy, 0.0003)}, {4, 8});
}

Frames NoCorporateOffer(Frames in) {
  size_t disc = First(in, ClientDhcp(wire::kDiscover));
  Frame proxy = in[First(in, ProxyReply(wire::kOffer))];
  Frames out = Concat({Slice(in, 0, disc + 1), {proxy}});
  return Retries(out, in[disc], {proxy}, {1, 2, 4});
}

Frames NoProxy(Frames in) {
  size_t disc = First(in, ClientDhcp(wire::kDiscover));
  Frame corp = in[First(in, CorporateReply())];
  Frames out = Concat({Slice(in, 0, disc + 1), {corp}});
  return Retries(out, in[disc], {corp}, {4, 8});
}

Frames CorporateNoPxeDhcp(Frames in) {
  Frames out;
  for (const Frame& f : BeforeHttp(in)) {
    out.push_back(
        !CorporateReply()(f)
            ? f
            : EditDhcp(f, [](wire::DhcpMessage& m, wire::UdpDatagram&) {
                m.options.Set(wire::kOptIpxeEncap, {176, 1, 1});
              }));
  }
  return out;
}

// The corporate scope carries option 60 PXEClient and no boot file: EDK2
// takes the corporate server for a proxy and asks it on 4011, in vain.
Frames CorporatePxeClientNoFile(Frames in) {
  wire::Ipv4 corporate = 0;
  Frames edited;
  for (const Frame& f : BeforeHttp(in)) {
    if (!CorporateReply()(f)) {
      edited.push_back(f);
      continue;
    }
    edited.push_back(
        EditDhcp(f, [&corporate](wire::DhcpMessage& m, wire::UdpDatagram& u) {
          m.options.SetString(wire::kOptVendorClass, "PXEClient");
          m.file.clear();
          m.options.Erase(wire::kOptBootfileName);
          corporate = u.src_ip;
        }));
  }
  size_t i = First(edited, Binl(wire::kBootRequest));
  Frames out = Slice(edited, 0, i);
  Frame ask = EditDhcp(edited[i],
                       [corporate](wire::DhcpMessage&, wire::UdpDatagram& u) {
                         u.dst_ip = corporate;
                       });
  return Concat({out, {ask, Later(ask, 2), Later(ask, 6), Later(ask, 14)}});
}

// The capture stops right after the firmware's port 4011 request: too soon
// to call it unanswered.
Frames CaptureEnded(Frames in) {
  return Slice(in, 0, First(in, Binl(wire::kBootRequest)) + 1);
}

Frames DhcpNak(Frames in) {
  Frames out;
  for (const Frame& f : BeforeHttp(in)) {
    auto m = Dhcp(f);
    if (!m || m->op != wire::kBootReply || m->message_type() != wire::kAck) {
      out.push_back(f);
      continue;
    }
    out.push_back(EditDhcp(f, [](wire::DhcpMessage& r, wire::UdpDatagram&) {
      r.yiaddr = 0;
      r.options.SetU8(wire::kOptMessageType, wire::kNak);
      r.options.Erase(wire::kOptLeaseTime);
    }));
  }
  return out;
}

}  // namespace capture_test
