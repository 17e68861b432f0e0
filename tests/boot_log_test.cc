// The boot log's correlator (metrics/boot_log.h): events with synthetic
// times in, the lines it writes out.
#include "metrics/boot_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ms = std::chrono::milliseconds;

constexpr wire::MacAddr kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr wire::Ipv4 kIp = 0x0a000064;  // 10.0.0.100

class BootLogTest : public ::testing::Test {
 protected:
  BootLog::Clock::time_point At(int millis) { return t0_ + ms(millis); }
  BootLog log_{BootLog::Options{}};  // 30 s stall
  BootLog::Clock::time_point t0_ = BootLog::Clock::time_point() + ms(1000000);
};

TEST_F(BootLogTest, UefiBootToTheMenuIsOneLine) {
  log_.Offered(At(0), kMac, 7, "efi-x64(7)", "snponly.efi");
  log_.BinlAnswered(At(3800), kMac, kIp, "efi-x64(7)", "snponly.efi");
  log_.TransferStarted(At(3900), kIp, "snponly.efi");
  log_.TransferEnded(At(3920), kIp, "snponly.efi", TransferEnd::kDone, 173792,
                     119, ms(20));
  EXPECT_THAT(log_.Tick(At(5000)), IsEmpty());
  EXPECT_EQ(log_.MenuOffered(At(7100), kMac, "efi-x64(7)"),
            "boot mac=52:54:00:12:34:56 arch=efi-x64(7) offer +0.0s, 4011 "
            "+3.8s, snponly.efi 173792 B in 20 ms, iPXE menu +7.1s");
  // iPXE asks again (REQUEST, a second DISCOVER): no second line, no stall.
  EXPECT_EQ(log_.MenuOffered(At(7200), kMac, "efi-x64(7)"), std::nullopt);
  EXPECT_THAT(log_.Tick(At(100000)), IsEmpty());
}

TEST_F(BootLogTest, BiosTransferIsMatchedByTheOfferedFile) {
  // BIOS firmware has no 4011 step; its address comes from the corporate
  // server's ACK, which pxeproxy does not receive.
  log_.Offered(At(0), kMac, 9, "bios", "undionly.kpxe");
  log_.TransferStarted(At(2000), kIp, "undionly.kpxe");
  log_.TransferEnded(At(2050), kIp, "undionly.kpxe", TransferEnd::kDone, 74213,
                     146, ms(50));
  EXPECT_EQ(log_.MenuOffered(At(4000), kMac, "bios"),
            "boot mac=52:54:00:12:34:56 arch=bios offer +0.0s, undionly.kpxe "
            "74213 B in 50 ms, iPXE menu +4.0s");
}

TEST_F(BootLogTest, ATransferFromAnUnknownAddressIsIgnored) {
  log_.TransferEnded(At(0), kIp, "undionly.kpxe", TransferEnd::kTimeout, 1, 0,
                     ms(6000));
  EXPECT_EQ(log_.size(), 0u);
  EXPECT_THAT(log_.Tick(At(100000)), IsEmpty());
}

TEST_F(BootLogTest, OfferedAndNothingElseStallsOnce) {
  log_.Offered(At(0), kMac, 7, "efi-x64(7)", "snponly.efi");
  EXPECT_THAT(log_.Tick(At(29000)), IsEmpty());
  EXPECT_THAT(log_.Tick(At(30000)),
              ElementsAre("boot stalled mac=52:54:00:12:34:56 arch=efi-x64(7) "
                          "stage=offered: offer +0.0s; no port 4011 request "
                          "or TFTP read followed within 30s"));
  EXPECT_THAT(log_.Tick(At(90000)), IsEmpty());
}

TEST_F(BootLogTest, ARepeatedDiscoverIsEdk2DroppingTheProxyOffer) {
  log_.Offered(At(0), kMac, 7, "efi-x64(7)", "snponly.efi");
  log_.Offered(At(4000), kMac, 7, "efi-x64(7)", "snponly.efi");
  log_.Offered(At(12000), kMac, 7, "efi-x64(7)", "snponly.efi");
  // The repeats are not progress: the stall counts from the first offer.
  std::vector<std::string> lines = log_.Tick(At(30000));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("finding=edk2_dropped_proxy_offer"));
  EXPECT_THAT(lines[0], HasSubstr("offer +0.0s (3 offers)"));
}

TEST_F(BootLogTest, FailedTransfersNameTheDiagnoseFinding) {
  struct Case {
    TransferEnd end;
    uint64_t acked;
    const char* finding;
  };
  const Case cases[] = {
      {TransferEnd::kTimeout, 0, "finding=tftp_no_ack_after_oack (timeout)"},
      {TransferEnd::kTimeout, 12, "finding=tftp_incomplete (timeout)"},
      {TransferEnd::kEvicted, 0, "finding=tftp_no_ack_after_oack (evicted)"},
      {TransferEnd::kClientError, 0, "finding=tftp_error (client_error)"},
  };
  for (const Case& c : cases) {
    BootLog log{BootLog::Options{}};
    log.Offered(At(0), kMac, 7, "efi-x64(7)", "snponly.efi");
    log.BinlAnswered(At(100), kMac, kIp, "efi-x64(7)", "snponly.efi");
    log.TransferStarted(At(200), kIp, "snponly.efi");
    log.TransferEnded(At(6200), kIp, "snponly.efi", c.end, 173792, c.acked,
                      ms(6000));
    std::vector<std::string> lines = log.Tick(At(40000));
    ASSERT_EQ(lines.size(), 1u) << c.finding;
    EXPECT_THAT(lines[0], HasSubstr(c.finding));
    EXPECT_THAT(lines[0], HasSubstr("stage=binl"));
    EXPECT_THAT(lines[0], HasSubstr("the transfer of snponly.efi failed"));
  }
}

TEST_F(BootLogTest, ATsizeProbeThenTheDownloadIsNoStall) {
  // PXE ROMs read tsize from the OACK, abort with ERROR 8, then download.
  log_.Offered(At(0), kMac, 1, "bios", "undionly.kpxe");
  log_.TransferEnded(At(1000), kIp, "undionly.kpxe", TransferEnd::kClientError,
                     74213, 0, ms(2));
  log_.TransferEnded(At(1100), kIp, "undionly.kpxe", TransferEnd::kDone, 74213,
                     146, ms(60));
  std::vector<std::string> lines = log_.Tick(At(40000));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("stage=boot_file: offer +0.0s, undionly.kpxe "
                                  "74213 B in 60 ms; iPXE never came back"));
  EXPECT_THAT(lines[0], ::testing::Not(HasSubstr("finding=")));
}

TEST_F(BootLogTest, ARefusedBootFileIsATftpError) {
  log_.Offered(At(0), kMac, 7, "efi-x64(7)", "snponly.efi");
  log_.BinlAnswered(At(100), kMac, kIp, "efi-x64(7)", "snponly.efi");
  log_.TransferRefused(At(200), kIp, "snponly.efi", "not_found");
  std::vector<std::string> lines = log_.Tick(At(40000));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("finding=tftp_error (not_found)"));
}

TEST_F(BootLogTest, BinlAnsweredButNoTransfer) {
  log_.Offered(At(0), kMac, 7, "efi-x64(7)", "snponly.efi");
  log_.BinlAnswered(At(4000), kMac, kIp, "efi-x64(7)", "snponly.efi");
  EXPECT_THAT(log_.Tick(At(33000)), IsEmpty());  // 30 s after the 4011 ACK
  std::vector<std::string> lines = log_.Tick(At(34000));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("stage=binl: offer +0.0s, 4011 +4.0s; no "
                                  "TFTP read followed within 30s"));
}

TEST_F(BootLogTest, TheNextBootStartsOver) {
  log_.Offered(At(0), kMac, 7, "efi-x64(7)", "snponly.efi");
  ASSERT_TRUE(log_.MenuOffered(At(5000), kMac, "efi-x64(7)"));
  log_.Offered(At(600000), kMac, 8, "efi-x64(7)", "snponly.efi");
  EXPECT_EQ(log_.MenuOffered(At(603000), kMac, "efi-x64(7)"),
            "boot mac=52:54:00:12:34:56 arch=efi-x64(7) offer +0.0s, iPXE "
            "menu +3.0s");
}

TEST_F(BootLogTest, IpxeWithoutAPxeStage) {
  EXPECT_EQ(log_.MenuOffered(At(0), kMac, "efi-x64(7)"),
            "boot mac=52:54:00:12:34:56 arch=efi-x64(7) iPXE menu +0.0s");
}

TEST_F(BootLogTest, AStormOfMacsStaysBounded) {
  BootLog log{
      BootLog::Options{.stall = std::chrono::seconds(30), .max_clients = 100}};
  for (uint32_t i = 0; i < 10000; ++i) {
    wire::MacAddr mac = {2,          0, uint8_t(i >> 16), uint8_t(i >> 8),
                         uint8_t(i), 1};
    log.Offered(At(i), mac, i, "bios", "undionly.kpxe");
    log.TransferStarted(At(i), 0x0a000000 + i, "undionly.kpxe");
  }
  EXPECT_EQ(log.size(), 100u);
  EXPECT_EQ(log.evicted(), 9900u);
  // The newest is still known (its offer shows), the oldest forgotten.
  wire::MacAddr newest = {2, 0, 0, 0x27, 0x0f, 1};  // 9999
  EXPECT_THAT(*log.MenuOffered(At(10000), newest, "bios"),
              HasSubstr("offer +0.0s"));
  wire::MacAddr oldest = {2, 0, 0, 0, 0, 1};
  EXPECT_THAT(*log.MenuOffered(At(10000), oldest, "bios"),
              ::testing::Not(HasSubstr("offer")));
  EXPECT_EQ(log.size(), 100u);
  // The stalls of 99 tracked machines, no more.
  EXPECT_EQ(log.Tick(At(100000)).size(), 98u);
}

}  // namespace
}  // namespace metrics
