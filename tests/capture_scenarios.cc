#include "tests/capture_scenarios.h"

#include "tests/capture_frames.h"
#include "tests/capture_scenario_makers.h"

namespace capture_test {

namespace pd = proxydhcp;

wire::Ipv4 Ip(const char* text) { return *wire::ParseIpv4(text); }

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

Frames Retries(const Frames& sofar, const Frame& discover,
               const Frames& answers, std::vector<double> delays) {
  Frames out = sofar;
  for (double d : delays) {
    Frames round = Concat({{discover}, answers});
    out = Concat({out, Moved(round, out, d)});
  }
  return out;
}

namespace {

constexpr char kEdk2[] = "ovmf-edk2-pxe-to-ipxe-efi.pcap";
constexpr char kSeabios[] = "seabios-ipxe-rom.pcap";
constexpr char kHttpBoot[] = "ovmf-uefi-http-boot.pcap";

Scenario S(std::string name, std::string base, std::string finding, bool ok,
           std::function<Frames(Frames)> make,
           std::function<void(pd::ResponderConfig&)> flags = nullptr) {
  return Scenario{std::move(name), std::move(base), std::move(finding), ok,
                  std::move(make), std::move(flags)};
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
