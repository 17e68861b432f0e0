// The pure TFTP core, hostile LAN: Admit's decisions as a table (one row per
// client situation, a fake file lookup), netascii converted per block equal
// to the whole-file conversion across windows and retransmissions, the GSO
// fallback rule, and path resolution that no rename can race.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tftp/admit.h"
#include "tftp/file_cache.h"
#include "tftp/gso.h"
#include "tftp/netascii.h"
#include "tftp/path.h"

namespace tftp {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> Packet(uint16_t opcode, std::vector<std::string> parts) {
  std::vector<uint8_t> b = {0, static_cast<uint8_t>(opcode)};
  for (const std::string& s : parts) {
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
  }
  return b;
}

// Serves "f1000" (1000 bytes) and "menu"; anything else is not found.
class FakeLookup : public FileLookup {
 public:
  Result Open(const std::string& name) override {
    ++calls;
    if (name == "f1000") return MakeFileData(std::string(1000, 'x'));
    if (name == "menu") return MakeFileData("#!ipxe\n");
    Refusal r;
    r.reason = Reason::kNotFound;
    r.answer = true;
    r.code = wire::TftpErrorCode::kNotFound;
    r.text = "file not found";
    return r;
  }
  int calls = 0;
};

struct Row {
  std::string name;
  std::vector<uint8_t> packet;
  Occupancy occupancy;
  // Refused: the reason, whether an ERROR goes out and its code.
  std::optional<Reason> reason;
  bool answer = false;
  int code = 0;
  bool lookup = true;  // whether the file was looked up
};

AdmitLimits Limits() {
  AdmitLimits l;
  l.max_sessions = 10;
  l.max_sessions_per_host = 3;
  return l;
}

Occupancy Busy(size_t sessions, size_t host,
               std::optional<std::string> same = std::nullopt) {
  Occupancy o;
  o.sessions = sessions;
  o.host_sessions = host;
  o.same_port_file = std::move(same);
  return o;
}

TEST(Admit, Table) {
  const Row rows[] = {
      {"too_short", {0}, {}, Reason::kMalformed, false, 0, false},
      {"unknown_opcode", {0, 9, 1}, {}, Reason::kMalformed, false, 0, false},
      {"stray_error", Packet(5, {}), {}, Reason::kStrayError, false, 0, false},
      {"ack_no_transfer",
       {0, 4, 0, 1},
       {},
       Reason::kUnknownTid,
       true,
       5,
       false},
      {"truncated_request",
       {0, 1, 'f', 0},
       {},
       Reason::kMalformedRequest,
       true,
       4,
       false},
      {"wrq",
       Packet(2, {"f1000", "octet"}),
       {},
       Reason::kWriteRequest,
       true,
       2,
       false},
      {"mode_mail",
       Packet(1, {"f1000", "mail"}),
       {},
       Reason::kMode,
       true,
       4,
       false},
      {"duplicate_rrq", Packet(1, {"f1000", "octet"}), Busy(1, 1, "f1000"),
       Reason::kDuplicateRrq, false, 0, false},
      // Hostile LAN, hole 4: one address holds its share; the server is not
      // full, but this host gets nothing more, silently.
      {"host_cap", Packet(1, {"f1000", "octet"}), Busy(3, 3),
       Reason::kMaxSessionsPerHost, false, 0, false},
      {"server_full", Packet(1, {"f1000", "octet"}), Busy(10, 1),
       Reason::kMaxSessions, false, 0, false},
      // Another file from the same port replaces that transfer: its slot
      // counts as free.
      {"replace_at_host_cap", Packet(1, {"menu", "octet"}),
       Busy(10, 3, "f1000")},
      {"not_found",
       Packet(1, {"nope", "octet"}),
       {},
       Reason::kNotFound,
       true,
       1},
      {"bad_blksize",
       Packet(1, {"f1000", "octet", "blksize", "4"}),
       {},
       Reason::kBadOption,
       true,
       8},
      {"ok", Packet(1, {"f1000", "octet"}), Busy(9, 2)},
  };
  std::set<std::string> names;
  for (Reason r : AllReasons()) names.insert(ReasonName(r));
  EXPECT_EQ(names.size(), AllReasons().size()) << "reason names must differ";
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    FakeLookup lookup;
    Admission a = Admit(row.packet, Peer{{0x0a000002, 2000}, 1500}, Limits(),
                        row.occupancy, lookup);
    EXPECT_EQ(lookup.calls, row.lookup ? 1 : 0);
    if (!row.reason) {
      ASSERT_TRUE(std::holds_alternative<Plan>(a))
          << ReasonName(std::get<Refusal>(a).reason);
      continue;
    }
    ASSERT_TRUE(std::holds_alternative<Refusal>(a));
    const Refusal& r = std::get<Refusal>(a);
    EXPECT_EQ(ReasonName(r.reason), std::string(ReasonName(*row.reason)));
    EXPECT_EQ(r.answer, row.answer);
    if (row.answer) EXPECT_EQ(static_cast<int>(r.code), row.code);
  }
}

TEST(Admit, PlanNegotiatesAndClamps) {
  FakeLookup lookup;
  Admission a = Admit(Packet(1, {"f1000", "octet", "tsize", "0", "blksize",
                                 "9000", "windowsize", "8"}),
                      Peer{{0x0a000002, 2000}, 1500}, Limits(), {}, lookup);
  ASSERT_TRUE(std::holds_alternative<Plan>(a));
  const Plan& p = std::get<Plan>(a);
  EXPECT_EQ(p.filename, "f1000");
  EXPECT_EQ(p.options.blksize, 1468);  // the MTU minus 32
  EXPECT_EQ(p.options.windowsize, 8);
  EXPECT_TRUE(p.gso);
  EXPECT_TRUE(p.session.oack);
  EXPECT_TRUE(p.session.size_known);
  EXPECT_EQ(p.session.size, 1000u);
  EXPECT_EQ(p.options.oack[0],
            std::make_pair(std::string("tsize"), std::string("1000")));
  EXPECT_FALSE(p.session.timeout_resends_one_block);
}

// Hostile LAN review: forged RRQs from many addresses (each under the
// per-host cap) filled the server for a minute. Full, with a transfer whose
// client never answered: the new request is planned, the old one evicted.
TEST(Admit, FullServerEvictsAnUnheardTransfer) {
  FakeLookup lookup;
  Occupancy full = Busy(10, 1);
  Admission dropped =
      Admit(Packet(1, {"f1000", "octet"}), Peer{{0x0a000002, 2000}, 1500},
            Limits(), full, lookup);
  ASSERT_TRUE(std::holds_alternative<Refusal>(dropped));
  EXPECT_EQ(std::get<Refusal>(dropped).reason, Reason::kMaxSessions);
  full.evictable = 1;
  Admission a = Admit(Packet(1, {"f1000", "octet"}),
                      Peer{{0x0a000002, 2000}, 1500}, Limits(), full, lookup);
  ASSERT_TRUE(std::holds_alternative<Plan>(a));
  EXPECT_TRUE(std::get<Plan>(a).evict_unheard);
  // The per-host cap still comes first: eviction is not a way around it.
  Occupancy host_full = Busy(10, 3);
  host_full.evictable = 1;
  Admission h =
      Admit(Packet(1, {"f1000", "octet"}), Peer{{0x0a000002, 2000}, 1500},
            Limits(), host_full, lookup);
  ASSERT_TRUE(std::holds_alternative<Refusal>(h));
  EXPECT_EQ(std::get<Refusal>(h).reason, Reason::kMaxSessionsPerHost);
  // Not full: nothing is evicted.
  Occupancy room = Busy(3, 1);
  room.evictable = 1;
  Admission r = Admit(Packet(1, {"f1000", "octet"}),
                      Peer{{0x0a000002, 2000}, 1500}, Limits(), room, lookup);
  ASSERT_TRUE(std::holds_alternative<Plan>(r));
  EXPECT_FALSE(std::get<Plan>(r).evict_unheard);
}

// Hole 6: in single-port mode an attacker can ACK blindly; the window is
// capped and a timeout resends one block.
TEST(Admit, SinglePortCapsTheWindow) {
  FakeLookup lookup;
  AdmitLimits l = Limits();
  l.single_port = true;
  Admission a = Admit(
      Packet(1, {"f1000", "octet", "blksize", "1468", "windowsize", "64"}),
      Peer{{0x0a000002, 2000}, 1500}, l, {}, lookup);
  ASSERT_TRUE(std::holds_alternative<Plan>(a));
  const Plan& p = std::get<Plan>(a);
  EXPECT_EQ(p.options.windowsize, AdmitLimits::kSinglePortMaxWindowsize);
  EXPECT_TRUE(p.session.timeout_resends_one_block);
}

// Hole 5: netascii's length is not computed up front: no tsize in the OACK,
// and the session learns its end from the conversion.
TEST(Admit, NetasciiHasNoTsize) {
  FakeLookup lookup;
  Admission a = Admit(Packet(1, {"f1000", "netascii", "tsize", "0"}),
                      Peer{{0x0a000002, 2000}, 0}, Limits(), {}, lookup);
  ASSERT_TRUE(std::holds_alternative<Plan>(a));
  const Plan& p = std::get<Plan>(a);
  EXPECT_EQ(p.mode, wire::TftpMode::kNetascii);
  EXPECT_FALSE(p.session.size_known);
  EXPECT_TRUE(p.options.oack.empty());
  EXPECT_FALSE(p.session.oack);
}

// --- netascii per block

std::string RandomText(std::mt19937& rng, size_t n) {
  static const char kAlphabet[] = "ab\r\n\r\n\0x";
  std::string s(n, ' ');
  for (char& c : s) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return s;
}

// Block `b` of a transfer, converted from the cursor where it starts.
std::string Block(const std::string& file, NetasciiBlocks& starts, uint64_t b,
                  size_t blksize, bool* last) {
  std::optional<NetasciiCursor> at = starts.Start(b);
  EXPECT_TRUE(at) << "no cursor for block " << b;
  if (!at) return "";
  absl::Span<const uint8_t> src(
      reinterpret_cast<const uint8_t*>(file.data()) + at->src,
      std::min<size_t>(file.size() - at->src, blksize));
  std::string out;
  NetasciiCursor next = EncodeNetascii(*at, src, blksize, &out);
  starts.SetStart(b + 1, next);
  *last = out.size() < blksize;
  return out;
}

TEST(Netascii, PerBlockEqualsWholeFile) {
  std::mt19937 rng(9);
  for (size_t size : {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 4096}) {
    for (size_t blksize : {1, 2, 3, 8, 512}) {
      SCOPED_TRACE(testing::Message() << size << " bytes, blksize " << blksize);
      std::string file = RandomText(rng, size);
      NetasciiBlocks starts;
      std::string got;
      bool last = false;
      for (uint64_t b = 1; !last; ++b) {
        got += Block(file, starts, b, blksize, &last);
        starts.Acked(b);
        EXPECT_LE(starts.size(), 1u);
      }
      EXPECT_EQ(got, wire::ToNetascii(file));
    }
  }
}

// Windows of 4 with the client losing blocks: each retransmitted window is
// converted again from the kept cursors and must be byte-identical.
TEST(Netascii, RetransmittedWindowsAreIdentical) {
  std::mt19937 rng(10);
  std::string file = RandomText(rng, 3000);
  std::string want = wire::ToNetascii(file);
  const size_t blksize = 16;
  const uint64_t window = 4;
  NetasciiBlocks starts;
  std::map<uint64_t, std::string> sent;
  uint64_t acked = 0, last_block = 0;
  while (last_block == 0 || acked < last_block) {
    for (int pass = 0; pass < 2; ++pass) {  // the window, then its resend
      for (uint64_t b = acked + 1; b <= acked + window; ++b) {
        bool last = false;
        std::string block = Block(file, starts, b, blksize, &last);
        auto [it, fresh] = sent.emplace(b, block);
        if (!fresh) EXPECT_EQ(it->second, block) << "block " << b;
        if (last) {
          last_block = b;
          break;
        }
      }
    }
    // The client got only part of the window (RFC 7440: it ACKs the last
    // block in order).
    uint64_t top = last_block ? last_block : acked + window;
    acked = std::min(top, acked + 1 + rng() % window);
    starts.Acked(acked);
    EXPECT_LE(starts.size(), window + 1);
  }
  std::string got;
  for (const auto& [b, block] : sent) got += block;
  EXPECT_EQ(got, want);
}

// --- GSO

TEST(Gso, OneTransfersErrorDoesNotDisableEveryone) {
  EXPECT_EQ(GsoAfterError(EAGAIN, false), GsoFallback::kRetryLater);
  EXPECT_EQ(GsoAfterError(ENOBUFS, true), GsoFallback::kRetryLater);
  EXPECT_EQ(GsoAfterError(EIO, false), GsoFallback::kEverywhere);
  EXPECT_EQ(GsoAfterError(EINVAL, false), GsoFallback::kEverywhere);
  // The kernel did UDP_SEGMENT before: this is about one transfer.
  EXPECT_EQ(GsoAfterError(EINVAL, true), GsoFallback::kThisTransfer);
  EXPECT_EQ(GsoAfterError(EPERM, false), GsoFallback::kThisTransfer);
  EXPECT_EQ(GsoAfterError(EHOSTUNREACH, false), GsoFallback::kThisTransfer);
}

// --- path resolution against a rename race (hole 10)

void Write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

// A thread swaps root/sub between a real directory and a symlink to a
// directory outside the root (RENAME_EXCHANGE, atomic), while requests for
// "sub/f" are opened as the server opens them. realpath-then-open served
// the outside file in this race; an open beneath the root never does.
TEST(PathRace, DirectorySwappedForSymlinkNeverEscapes) {
  char tmpl[] = "/tmp/pxt-race-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path base = tmpl;
  fs::create_directories(base / "root/sub");
  fs::create_directories(base / "outside");
  Write(base / "root/sub/f", "inside");
  Write(base / "outside/f", "secret");
  fs::create_directory_symlink(base / "outside", base / "root/alt");
  auto policy = PathPolicy::Create((base / "root").string(), {});
  ASSERT_TRUE(policy.ok());
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    std::string a = (base / "root/sub").string();
    std::string b = (base / "root/alt").string();
    while (!stop)
      renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE);
  });
  FileCache cache(1 << 20, 1 << 20);
  int served = 0, escaped = 0;
  for (int i = 0; i < 20000; ++i) {
    absl::StatusOr<OpenedFile> opened = policy->Open("sub/f");
    if (!opened.ok()) continue;
    auto data = cache.Get(opened->fd, opened->path);
    if (!data.ok()) continue;
    auto b = (*data)->bytes();
    std::string got(b.begin(), b.end());
    ++served;
    if (got == "secret") ++escaped;
  }
  stop = true;
  swapper.join();
  fs::remove_all(base);
  EXPECT_EQ(escaped, 0) << "served the file outside the root";
  EXPECT_GT(served, 0);
}

}  // namespace
}  // namespace tftp
