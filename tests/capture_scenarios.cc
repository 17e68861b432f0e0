#include "tests/capture_scenarios.h"

#include "tests/capture_frames.h"

namespace capture_test {
namespace {

namespace pd = proxydhcp;

constexpr char kEdk2[] = "ovmf-edk2-pxe-to-ipxe-efi.pcap";
constexpr char kSeabios[] = "seabios-ipxe-rom.pcap";
constexpr char kHttpBoot[] = "ovmf-uefi-http-boot.pcap";

wire::Ipv4 Ip(const char* text) { return *wire::ParseIpv4(text); }

// Frames up to the first HTTP (TCP) frame: the client never got further.
// TFTP DATA cut to 64 captured bytes, as tcpdump -s 64 would: keeps the
// fixtures small and exercises the snap-length path (sizes from IPv4).
Frames Snapped(Frames in) {
  for (Frame& f : in) {
    auto t = Tftp(f);
    if (t && t->op == wire::TftpOpcode::kData && f.bytes.size() > 64) {
      f.bytes.resize(64);
    }
  }
  return in;
}

Frames BeforeHttp(const Frames& in) {
  return Slice(in, 0, First(in, [](const Frame& f) { return IsTcp(f); }));
}

// The client DISCOVERs again `times` times, each answered by `answers`.
Frames Retries(const Frames& sofar, const Frame& discover,
               const Frames& answers, std::vector<double> delays) {
  Frames out = sofar;
  for (double d : delays) {
    Frames round = Concat({{discover}, answers});
    out = Concat({out, Moved(round, out, d)});
  }
  return out;
}

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

Frame ArmDiscover(const Frame& f) {
  return EditDhcp(f, [](wire::DhcpMessage& m, wire::UdpDatagram&) {
    m.options.SetU16(wire::kOptClientArch, wire::kArchEfiArm64);
    m.options.SetString(wire::kOptVendorClass,
                        "PXEClient:Arch:00011:UNDI:003000");
  });
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

Scenario S(std::string name, std::string base, std::string finding, bool ok,
           std::function<Frames(Frames)> make,
           std::function<void(pd::ResponderConfig&)> flags = nullptr) {
  return Scenario{std::move(name), std::move(base), std::move(finding), ok,
                  std::move(make), std::move(flags)};
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

// The download stops after 40 DATA blocks: no end, no error.
Frames TftpIncomplete(Frames in) {
  size_t rrq2 = First(in, TftpOp(wire::TftpOpcode::kRrq),
                      First(in, TftpOp(wire::TftpOpcode::kRrq)) + 1);
  size_t at = rrq2;
  for (int i = 0; i < 40; ++i)
    at = First(in, TftpOp(wire::TftpOpcode::kData), at + 1);
  return Slice(in, 0, at + 1);
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

}  // namespace

capture::AnalyzerConfig GoldenConfig() {
  capture::AnalyzerConfig c;
  c.responder.boot_files[pd::BootArch::kBios] = "undionly.kpxe";
  c.responder.boot_files[pd::BootArch::kEfiX64] = "snponly.efi";
  c.responder.menu_url = "http://10.231.0.1:8080/menu.ipxe";
  c.responder.http_boot_url = "http://10.231.0.1:8080/ipxe.efi";
  return c;
}

std::vector<Scenario> Scenarios() {
  auto no_http_url = [](pd::ResponderConfig& r) { r.http_boot_url.clear(); };
  auto no_efi_file = [](pd::ResponderConfig& r) {
    r.boot_files.erase(pd::BootArch::kEfiX64);
  };
  return {
      S("corporate-boot-file", kSeabios, "corporate_boot_info", false,
        CorporateBootFile),
      S("two-proxies", kEdk2, "two_proxies", true, TwoProxies),
      S("binl-unanswered", kEdk2, "binl_unanswered", false, BinlUnanswered),
      S("tftp-blocked", kEdk2, "tftp_no_answer", false, TftpBlocked),
      S("tftp-blksize-mtu", kEdk2, "tftp_blksize_too_big", false,
        TftpBlksizeMtu),
      S("ipxe-loop", kEdk2, "ipxe_chainload_loop", false, IpxeLoop),
      S("relay-broadcast", kSeabios, "relay_broadcast_reply", false,
        RelayBroadcast),
      S("arm64-no-boot-file", kEdk2, "no_boot_file_for_arch", false,
        Arm64NoBootFile),
      S("edk2-drop", kEdk2, "edk2_dropped_proxy_offer", false, Edk2Drop),
      S("ipxe-late-proxy", kSeabios, "ipxe_proxy_late", false, IpxeLateProxy),
      S("tftp-option-refused", kEdk2, "tftp_option_refused", false,
        TftpOptionRefused),
      S("rrq-garbage", kEdk2, "rrq_trailing_garbage", false, RrqGarbage),
      S("tftp-wrong-source", kEdk2, "tftp_wrong_source", false,
        TftpWrongSource),
      S("no-corporate-offer", kSeabios, "no_corporate_offer", false,
        NoCorporateOffer),
      S("no-proxy", kEdk2, "no_proxy_offer", false, NoProxy),
      S("corporate-no-pxedhcp", kSeabios, "corporate_no_pxedhcp", false,
        CorporateNoPxeDhcp),
      S("corporate-pxeclient-no-file", kEdk2, "corporate_pxeclient_no_file",
        false, CorporatePxeClientNoFile),
      S("capture-ended", kEdk2, "capture_ended", false, CaptureEnded),
      S("ipxe-late-from-discovery", kSeabios, "ipxe_proxy_late", false,
        IpxeLateFromDiscovery),
      S("http-boot-no-url", kHttpBoot, "http_boot_unanswered", false, NoProxy,
        no_http_url),
      // The pre-deployment check: the boot works today (another proxy), but
      // pxeproxy with these flags would not answer this UEFI client.
      S("predeploy-no-efi-file", kEdk2, "dry_run_silent", true, Snapped,
        no_efi_file),
      S("ipxe-no-siaddr", kSeabios, "ipxe_proxy_without_siaddr", false,
        IpxeNoSiaddr),
      S("tftp-incomplete", kEdk2, "tftp_incomplete", false, TftpIncomplete),
      S("dhcp-nak", kSeabios, "dhcp_nak", false, DhcpNak),
  };
}

}  // namespace capture_test
