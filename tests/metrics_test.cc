// The metrics registry, its Prometheus text exposition, and the hub the
// serving loops report to (metrics/registry.h, metrics/pxeproxy_metrics.h).
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/pxeproxy_metrics.h"
#include "metrics/registry.h"

namespace metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Registry, RendersCountersGaugesWithHelpAndType) {
  Registry r;
  Counter* a = r.AddCounter("x_requests_total", "Requests.", {{"kind", "a"}});
  Counter* b = r.AddCounter("x_requests_total", "Requests.", {{"kind", "b"}});
  Gauge* g = r.AddGauge("x_in_flight", "In flight.");
  a->Inc();
  a->Inc(2);
  b->Inc();
  g->Add(5);
  g->Add(-2);
  ASSERT_TRUE(r.status().ok()) << r.status();
  EXPECT_EQ(r.Render(),
            "# HELP x_requests_total Requests.\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{kind=\"a\"} 3\n"
            "x_requests_total{kind=\"b\"} 1\n"
            "# HELP x_in_flight In flight.\n"
            "# TYPE x_in_flight gauge\n"
            "x_in_flight 3\n");
}

TEST(Registry, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram* h = r.AddHistogram("x_seconds", "Time.", {0.1, 1});
  h->Observe(0.05);
  h->Observe(0.1);  // upper bounds are inclusive
  h->Observe(0.5);
  h->Observe(7);
  EXPECT_EQ(r.Render(),
            "# HELP x_seconds Time.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.1\"} 2\n"
            "x_seconds_bucket{le=\"1\"} 3\n"
            "x_seconds_bucket{le=\"+Inf\"} 4\n"
            "x_seconds_sum 7.65\n"
            "x_seconds_count 4\n");
}

TEST(Registry, EscapesLabelValuesAndHelp) {
  Registry r;
  r.AddCounter("x_total", "a\\b\nc", {{"file", "a\"b\\c\nd"}})->Inc();
  std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP x_total a\\\\b\\nc\n"));
  EXPECT_THAT(text, HasSubstr("x_total{file=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(Registry, RefusesNamesAgainstTheConventions) {
  {
    Registry r;
    r.AddCounter("x_requests", "no _total");
    EXPECT_FALSE(r.status().ok());
  }
  {
    Registry r;
    r.AddGauge("1x", "starts with a digit");
    EXPECT_FALSE(r.status().ok());
  }
  {
    Registry r;
    r.AddCounter("x_total", "bad label", {{"a-b", "v"}});
    EXPECT_FALSE(r.status().ok());
  }
  {
    Registry r;
    r.AddCounter("x_total", "twice", {{"a", "v"}});
    r.AddCounter("x_total", "twice", {{"a", "v"}});
    EXPECT_FALSE(r.status().ok());
  }
  {
    Registry r;
    r.AddCounter("x_total", "two types");
    r.AddGauge("x_total", "two types", {{"a", "v"}});
    EXPECT_FALSE(r.status().ok());
  }
  {
    Registry r;
    r.AddHistogram("x_seconds", "le is reserved", {1}, {{"le", "1"}});
    EXPECT_FALSE(r.status().ok());
  }
}

TEST(Registry, FormatValue) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(12), "12");
  EXPECT_EQ(FormatValue(0.00025), "0.00025");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
}

TEST(Registry, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  Counter* c = r.AddCounter("x_total", "x");
  Histogram* h = r.AddHistogram("x_seconds", "x", {0.5});
  auto work = [&] {
    for (int i = 0; i < 100000; ++i) {
      c->Inc();
      h->Observe(i % 2 ? 0.25 : 1);
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  EXPECT_EQ(c->Value(), 200000u);
  Histogram::Snapshot s = h->Read();
  EXPECT_EQ(s.cumulative[0], 100000u);
  EXPECT_EQ(s.cumulative[1], 200000u);
}

// --- the hub ---

proxydhcp::Reply MakeReply(uint8_t type, uint16_t arch,
                           proxydhcp::ClientKind kind, uint16_t src_port,
                           const std::string& file) {
  proxydhcp::Reply r;
  r.message.options.SetU8(wire::kOptMessageType, type);
  r.message.xid = 42;
  r.message.chaddr = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
  r.client.arch = arch;
  r.client.kind = kind;
  r.src_port = src_port;
  r.dst_ip = 0x0a000064;  // 10.0.0.100
  r.boot_file = file;
  return r;
}

struct Hub {
  Hub() {
    Metrics::Options o;
    o.version = "9.9.9";
    o.boot_files = {"snponly.efi"};
    o.log = [this](bool stall, const std::string& line) {
      lines.push_back((stall ? "W " : "I ") + line);
    };
    m = std::make_unique<Metrics>(std::move(o));
  }
  std::vector<std::string> lines;
  std::unique_ptr<Metrics> m;
};

TEST(Metrics, RegistersEverySeriesAtStartWithoutErrors) {
  Hub h;
  ASSERT_TRUE(h.m->status().ok()) << h.m->status();
  std::string text = h.m->Render();
  EXPECT_THAT(text, HasSubstr("pxeproxy_build_info{version=\"9.9.9\"} 1\n"));
  // Every ignore reason and every TFTP reason shows from the start (zeros).
  EXPECT_THAT(text,
              HasSubstr("pxeproxy_dhcp_ignored_total{reason=\"bad_checksum\"} "
                        "0\n"));
  EXPECT_THAT(
      text, HasSubstr("pxeproxy_tftp_ignored_total{reason=\"not_found\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_tftp_transfers_failed_total{reason="
                              "\"timeout\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("pxeproxy_boot_stage_total{stage=\"offered\"} 0\n"));
}

TEST(Metrics, ABootMovesTheCountersAndLogsOneLine) {
  Hub h;
  using proxydhcp::ClientKind;
  h.m->DhcpReceived();
  h.m->DhcpIgnored(proxydhcp::IgnoreReason::kRequestOnPort67);
  h.m->DhcpReplied(
      MakeReply(wire::kOffer, 7, ClientKind::kPxe, 67, "snponly.efi"),
      std::chrono::microseconds(80));
  h.m->DhcpReplied(
      MakeReply(wire::kAck, 7, ClientKind::kPxe, 4011, "snponly.efi"),
      std::chrono::microseconds(300));
  h.m->TftpStarted(0x0a000064, "snponly.efi");
  h.m->TftpEnded(0x0a000064, "snponly.efi", TransferEnd::kDone, 173792, 119,
                 std::chrono::milliseconds(20));
  h.m->TftpSync({1, 173792, 120, 2, 0, 0, 3});
  h.m->DhcpReplied(
      MakeReply(wire::kOffer, 7, ClientKind::kIpxe, 67, "http://x/menu.ipxe"),
      std::chrono::microseconds(90));
  std::string text = h.m->Render();
  EXPECT_THAT(text, HasSubstr("pxeproxy_dhcp_received_total 1\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_tftp_receive_errors_total 3\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_dhcp_ignored_total{reason=\"request_"
                              "on_port_67\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("pxeproxy_dhcp_replies_total{type=\"offer\",arch=\"efi_"
                        "x64\",kind=\"pxe\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("pxeproxy_dhcp_replies_total{type=\"ack\",arch=\"efi_"
                        "x64\",kind=\"pxe\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("pxeproxy_dhcp_replies_total{type=\"offer\",arch=\"efi_"
                        "x64\",kind=\"ipxe\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_dhcp_reply_latency_seconds_count 3\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_tftp_transfers_completed_total 1\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_tftp_sent_bytes_total 173792\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_tftp_retransmissions_total 2\n"));
  for (const char* stage : {"offered", "binl", "boot_file", "menu_offered"}) {
    EXPECT_THAT(text,
                HasSubstr(absl::StrCat("pxeproxy_boot_stage_total{stage=\"",
                                       stage, "\"} 1\n")));
  }
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_THAT(h.lines[0], HasSubstr("I boot mac=52:54:00:12:34:56"));
  EXPECT_THAT(h.lines[0], HasSubstr("snponly.efi 173792 B in 20 ms"));
  EXPECT_THAT(h.lines[0], HasSubstr("iPXE menu +"));
}

TEST(Metrics, ATransferOfAnotherFileIsNotABootFile) {
  Hub h;
  h.m->TftpEnded(0x0a000064, "pxelinux.cfg/default", TransferEnd::kDone, 10, 1,
                 std::chrono::milliseconds(1));
  h.m->TftpEnded(0x0a000064, "snponly.efi", TransferEnd::kTimeout, 10, 0,
                 std::chrono::seconds(6));
  std::string text = h.m->Render();
  EXPECT_THAT(text,
              HasSubstr("pxeproxy_boot_stage_total{stage=\"boot_file\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("pxeproxy_tftp_transfers_failed_total{reason="
                              "\"timeout\"} 1\n"));
  // A completed transfer is timed; a failed one is not.
  EXPECT_THAT(text,
              HasSubstr("pxeproxy_tftp_transfer_duration_seconds_count 1\n"));
}

TEST(Metrics, AStallIsAWarningAndCounted) {
  Hub h;
  h.m->DhcpReplied(MakeReply(wire::kOffer, 0, proxydhcp::ClientKind::kPxe, 67,
                             "undionly.kpxe"),
                   std::chrono::microseconds(80));
  h.m->Tick(Metrics::Clock::now() + std::chrono::seconds(31));
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_THAT(h.lines[0], HasSubstr("W boot stalled mac=52:54:00:12:34:56"));
  EXPECT_THAT(h.m->Render(), HasSubstr("pxeproxy_boot_stalls_total 1\n"));
  EXPECT_THAT(h.m->Render(), HasSubstr("pxeproxy_boot_log_clients 1\n"));
}

}  // namespace
}  // namespace metrics
