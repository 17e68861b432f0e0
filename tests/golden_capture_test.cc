// Golden tests over real firmware captures (tests/fixtures/captures, with
// dnsmasq as the proxy): each DHCP/4011 frame decoded to stable text, and for
// each client packet the decision of Decide (the daemon's one entry), on an
// interface holding the capture's proxy address. PXEPROXY_REGENERATE_GOLDEN=1
// rewrites the golden files.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "pcap_frames.h"
#include "proxydhcp/decide.h"
#include "proxydhcp/describe.h"
#include "wire/udp_frame.h"

namespace proxydhcp {
namespace {

ResponderConfig GoldenConfig() {
  ResponderConfig c;
  c.boot_files[BootArch::kBios] = "undionly.kpxe";
  c.boot_files[BootArch::kEfiX64] = "snponly.efi";
  c.menu_url = "http://10.231.0.1/menu.ipxe";
  c.http_boot_url = "http://10.231.0.1/ipxe.efi";
  return c;
}

// The host the captures were taken beside: 10.231.0.1/24 on eth0 (index
// 2), with its connected route and a default route.
NetSnapshot GoldenNet() {
  NetSnapshot net;
  InterfaceInfo& eth = net.interfaces[2];
  eth.index = 2;
  eth.name = "eth0";
  eth.mac = {0x42, 0x64, 0xbd, 0xdc, 0x90, 0x37};
  eth.ipv4.push_back({wire::ParseIpv4("10.231.0.1").value(), 24});
  net.routes = RouteTable(
      {{wire::ParseIpv4("10.231.0.0").value(), 24, {2}}, {0, 0, {2}}});
  return net;
}

bool IsDhcpPort(uint16_t p) {
  return p == kDhcpServerPort || p == kDhcpClientPort || p == kPxeBinlPort;
}

std::string Render(const std::string& capture) {
  std::string err;
  auto frames = testing_util::ReadPcap(
      testing_util::SourceDir() + "/tests/fixtures/captures/" + capture, &err);
  EXPECT_TRUE(err.empty()) << err;
  EXPECT_FALSE(frames.empty());
  const ResponderConfig config = GoldenConfig();
  const NetSnapshot net = GoldenNet();
  ReceiveMeta meta;
  meta.ifindex = 2;
  std::string out;
  const double t0 = frames.empty() ? 0 : frames[0].time;
  for (size_t i = 0; i < frames.size(); ++i) {
    auto udp = wire::ParseEthernetUdp(frames[i].bytes);
    if (!udp.ok() || !IsDhcpPort(udp->dst_port) || !IsDhcpPort(udp->src_port)) {
      continue;
    }
    absl::StrAppendFormat(&out, "#%d +%.3f %s:%d -> %s:%d\n", i + 1,
                          frames[i].time - t0, wire::FormatIpv4(udp->src_ip),
                          udp->src_port, wire::FormatIpv4(udp->dst_ip),
                          udp->dst_port);
    auto msg = wire::ParseDhcp(udp->payload);
    if (!msg.ok()) {
      absl::StrAppend(&out, "parse error: ", msg.status().message(), "\n\n");
      continue;
    }
    absl::StrAppend(&out, DescribeMessage(*msg));
    if (msg->op == wire::kBootRequest) {
      absl::StrAppend(
          &out, "=> ",
          DescribeDecision(Decide(frames[i].bytes, meta, net, config)));
    }
    out += "\n";
  }
  return out;
}

class GoldenCapture : public testing::TestWithParam<std::string> {};

TEST_P(GoldenCapture, MatchesGolden) {
  const std::string golden_path =
      absl::StrCat(testing_util::SourceDir(), "/tests/golden/proxydhcp/",
                   GetParam(), ".txt");
  const std::string got = Render(GetParam());
  if (std::getenv("PXEPROXY_REGENERATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path) << got;
    GTEST_SKIP() << "regenerated " << golden_path;
  }
  std::ifstream in(golden_path);
  ASSERT_TRUE(in) << golden_path
                  << " missing: run with PXEPROXY_REGENERATE_GOLDEN=1";
  std::stringstream want;
  want << in.rdbuf();
  if (got == want.str()) return;
  std::vector<std::string> a = absl::StrSplit(got, '\n');
  std::vector<std::string> b = absl::StrSplit(want.str(), '\n');
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  ADD_FAILURE() << golden_path << " differs at line " << i + 1
                << ":\n got: " << (i < a.size() ? a[i] : "<end>")
                << "\nwant: " << (i < b.size() ? b[i] : "<end>")
                << "\nregenerate with PXEPROXY_REGENERATE_GOLDEN=1 after "
                   "checking the difference";
}

INSTANTIATE_TEST_SUITE_P(Captures, GoldenCapture,
                         testing::Values("ovmf-edk2-pxe-to-ipxe-efi.pcap",
                                         "seabios-ipxe-rom.pcap",
                                         "ovmf-uefi-http-boot.pcap"),
                         [](const testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param.substr(0, p.param.find('.'));
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace proxydhcp
