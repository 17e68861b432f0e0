// tftp::Admit, the one decision on a datagram at the TFTP port, with a fake
// file lookup. Input: byte 0 picks the limits (single port, a low blksize or
// window cap), byte 1 the occupancy (kept consistent: the same-port transfer
// is one of the host's, the host's are some of all), byte 2 the peer's MTU;
// the rest is the packet.
// Properties: a refusal of a busy server, of a stray ERROR or of a duplicate
// RRQ sends nothing; one that answers carries an ERROR code and text; a Plan
// has the file, a blksize within the limits and the MTU, a window within the
// limits (4 in single-port mode), and a session that a client ACKing every
// window brings to its end within last_block() + 1 ACKs.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "fuzz_util.h"
#include "tftp/admit.h"

namespace {

using namespace tftp;

// Owned bytes (tftp's MakeFileData lives in the shell library).
class MemFile : public FileData {
 public:
  explicit MemFile(std::string b) : bytes_(std::move(b)) {}
  uint64_t size() const override { return bytes_.size(); }
  bool in_memory() const override { return true; }
  absl::Span<const uint8_t> bytes() const override {
    return {reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()};
  }
  absl::StatusOr<absl::Span<const uint8_t>> Read(
      uint64_t offset, size_t length,
      std::vector<uint8_t>* scratch) const override {
    FUZZ_CHECK(offset <= bytes_.size() && length <= bytes_.size() - offset);
    return bytes().subspan(offset, length);
  }

 private:
  std::string bytes_;
};
std::shared_ptr<const FileData> MakeFileData(std::string b) {
  return std::make_shared<MemFile>(std::move(b));
}

class FakeLookup : public FileLookup {
 public:
  FakeLookup() {
    files_["f1000"] = MakeFileData(std::string(1000, 'x'));
    files_["menu"] = MakeFileData("#!ipxe\r\nchain http://x/y\n\r\r\n");
    files_["empty"] = MakeFileData("");
    files_["b512"] = MakeFileData(std::string(512, 'b'));
    // Past 65535 blocks of 8 bytes: the block number rolls over.
    files_["big"] = MakeFileData(std::string(8 * 65536 + 3, 'z'));
    // What the captures' clients ask for (the seeds' RRQs), by suffix.
    efi_ = MakeFileData(std::string(173792, 'e'));
    kpxe_ = MakeFileData(std::string(74213, 'k'));
  }
  Result Open(const std::string& name) override {
    auto it = files_.find(name);
    if (it != files_.end()) return it->second;
    if (absl::EndsWith(name, ".efi")) return efi_;
    if (absl::EndsWith(name, ".kpxe")) return kpxe_;
    Refusal r;
    r.answer = true;
    if (name == "denied" || name.find("..") != std::string::npos) {
      r.reason = Reason::kAccess;
      r.code = wire::TftpErrorCode::kAccessViolation;
      r.text = "access violation";
    } else if (name == "unreadable") {
      r.reason = Reason::kUnreadable;
      r.code = wire::TftpErrorCode::kAccessViolation;
      r.text = "cannot read";
    } else {
      r.reason = Reason::kNotFound;
      r.code = wire::TftpErrorCode::kNotFound;
      r.text = "file not found";
    }
    return r;
  }

 private:
  std::map<std::string, std::shared_ptr<const FileData>> files_;
  std::shared_ptr<const FileData> efi_, kpxe_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FakeLookup lookup;
  static const int kMtus[] = {0, 1500, 576, 9000, 40, 68, 65535, 1280};
  fuzz::Input in(data, size);
  uint8_t l = in.U8();
  AdmitLimits limits;
  limits.max_sessions = 1 + (l & 3) * 4;              // 1, 5, 9, 13
  limits.max_sessions_per_host = 1 + ((l >> 2) & 3);  // 1..4
  limits.single_port = (l >> 4) & 1;
  if ((l >> 5) & 1) limits.max_blksize = 1024;
  if ((l >> 6) & 1) limits.max_windowsize = 8;
  if ((l >> 7) & 1) limits.default_timeout_ms = 3000;
  uint8_t o = in.U8();
  Occupancy occ;
  occ.sessions = o % 16;
  occ.host_sessions = occ.sessions ? (o >> 4) % (occ.sessions + 1) : 0;
  uint8_t same = in.U8();
  if (occ.host_sessions > 0 && (same & 3) != 0) {
    occ.same_port_file = (same & 3) == 1   ? "f1000"
                         : (same & 3) == 2 ? "menu"
                                           : "big";
  }
  Peer peer;
  peer.endpoint = {0x0ae70091, static_cast<uint16_t>(1024 + (same >> 2))};
  peer.mtu = kMtus[(same >> 5) & 7];
  absl::Span<const uint8_t> packet = in.Rest();

  Admission a = Admit(packet, peer, limits, occ, lookup);
  if (const Refusal* r = std::get_if<Refusal>(&a)) {
    FUZZ_CHECK(std::string(ReasonName(r->reason)) != "unknown");
    if (r->reason == Reason::kMaxSessions ||
        r->reason == Reason::kMaxSessionsPerHost ||
        r->reason == Reason::kStrayError ||
        r->reason == Reason::kDuplicateRrq || r->reason == Reason::kMalformed) {
      FUZZ_CHECK(!r->answer);
    }
    if (r->answer) {
      FUZZ_CHECK(r->code != wire::TftpErrorCode::kNotDefined);
      FUZZ_CHECK(!r->text.empty());
    }
    return 0;
  }
  const Plan& p = std::get<Plan>(a);
  FUZZ_CHECK(p.data != nullptr);
  FUZZ_CHECK(p.session.size == p.data->size());
  FUZZ_CHECK(p.session.blksize >= kMinBlksize);
  FUZZ_CHECK(p.session.blksize <= limits.max_blksize);
  // A negotiated blksize fits the MTU (without the option, RFC 1350's 512
  // is all the client understands, whatever the MTU).
  bool blksize_option = false;
  for (const auto& [name, value] : p.options.oack) {
    blksize_option |= name == "blksize";
  }
  if (blksize_option && peer.mtu > 32 + kMinBlksize) {
    FUZZ_CHECK(p.session.blksize <= peer.mtu - 32);
  }
  FUZZ_CHECK(p.session.windowsize >= 1);
  FUZZ_CHECK(p.session.windowsize <= limits.max_windowsize);
  if (limits.single_port) {
    FUZZ_CHECK(p.session.windowsize <= AdmitLimits::kSinglePortMaxWindowsize);
  }
  FUZZ_CHECK(p.session.oack == !p.options.oack.empty());
  FUZZ_CHECK(p.session.size_known == (p.mode == wire::TftpMode::kOctet));
  if (p.gso) FUZZ_CHECK(peer.mtu > 0 && p.session.blksize + 32 <= peer.mtu);
  if (occ.same_port_file) FUZZ_CHECK(p.replaces);

  // A client that ACKs every window gets the whole file and the end.
  if (!p.session.size_known) return 0;  // netascii: the server finds the end
  Session s(p.session);
  Action act = s.Start();
  uint64_t acks = 0;
  const uint64_t bound = s.last_block() + 2;
  while (act.kind != Action::Kind::kDone) {
    FUZZ_CHECK(++acks <= bound);
    if (act.kind == Action::Kind::kSendOack) {
      act = s.OnAck(0);
      continue;
    }
    FUZZ_CHECK(act.kind == Action::Kind::kSendData);
    FUZZ_CHECK(act.first >= 1 && act.first <= act.last);
    FUZZ_CHECK(act.last <= s.last_block());
    FUZZ_CHECK(act.last - act.first + 1 <=
               static_cast<uint64_t>(p.session.windowsize));
    act = s.OnAck(Session::WireBlock(act.last));
  }
  FUZZ_CHECK(s.acked() == s.last_block());
  return 0;
}
