// The one decision on a datagram at the TFTP port: a Plan for a new transfer
// or a Refusal with a stable reason. Pure: the packet, the peer, the limits,
// how many transfers run, and a file lookup (an interface, so tests pass a
// fake) come in; nothing is sent, logged or counted here. The server (and
// any dry run or fuzzer) executes what comes out.
#ifndef PXEPROXY_TFTP_ADMIT_H_
#define PXEPROXY_TFTP_ADMIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/types/span.h"
#include "tftp/endpoint.h"
#include "tftp/file_data.h"
#include "tftp/options.h"
#include "tftp/session.h"
#include "wire/tftp_packet.h"

namespace tftp {

// Why a packet changed nothing, or was answered with an ERROR. The names
// (ReasonName) are stable: counters, log lines and tests use them.
enum class Reason {
  // At the server port, before or instead of a transfer:
  kTruncated,           // larger than the receive buffer
  kMalformed,           // shorter than an opcode, unknown opcode
  kStrayError,          // an ERROR: never answered (RFC 1350)
  kUnknownTid,          // an ACK/DATA/OACK for no transfer: ERROR 5
  kMalformedRequest,    // RRQ/WRQ that does not parse: ERROR 4
  kWriteRequest,        // WRQ: ERROR 2, the server is read-only
  kDuplicateRrq,        // the same request again while its transfer runs
  kMode,                // neither octet nor netascii: ERROR 4
  kMaxSessions,         // the server is full: dropped, the client retries
  kMaxSessionsPerHost,  // this source address holds its share: dropped
  kNotFound,            // ERROR 1
  kAccess,              // ERROR 2: name refused, outside the root, not a file
  kUnreadable,          // ERROR 2: the file could not be opened or read
  kBadOption,           // ERROR 8 (RFC 2347)
  kNoSocket,            // no socket for the transfer's TID (file limit)
  kNotServedInterface,  // arrived on an interface pxeproxy does not serve
  kEvictedUnheard,      // a transfer never acknowledged, ended for a new one
  kStopping,            // the server is stopping: no new transfer
  // On a running transfer:
  kDuplicateAck,
  kStaleAck,
  kFutureAck,
  kAfterFinish,
};
const char* ReasonName(Reason r);
std::vector<Reason> AllReasons();
Reason ReasonOf(Action::Ignored why);

struct Refusal {
  Reason reason = Reason::kMalformed;
  // Answer with ERROR `code` and `text`; false: drop silently (a busy
  // server must not send the ERROR that EDK2 and iPXE take as the end of
  // the boot; an ERROR is never answered).
  bool answer = false;
  wire::TftpErrorCode code = wire::TftpErrorCode::kNotDefined;
  std::string text;
  std::string detail;    // for the log: the file name or the parse error
  bool request = false;  // it was an RRQ or WRQ (counted as a request)
};

struct AdmitLimits {
  int max_sessions = 1000;
  int max_sessions_per_host = 32;
  int max_blksize = kMaxBlksize;
  int max_windowsize = 64;
  int default_timeout_ms = 1000;
  int max_retries = 5;
  bool single_port = false;
  // With single_port, a spoofed RRQ and blind ACKs (the port is always 69,
  // nothing to guess) would turn each 32-byte ACK into a whole window to a
  // victim: the window is capped there. EDK2 asks for 4.
  static constexpr int kSinglePortMaxWindowsize = 4;
};

// What runs now, for the cap checks.
struct Occupancy {
  size_t sessions = 0;       // transfers in progress
  size_t host_sessions = 0;  // of them, from the request's source address
  // The file of the transfer from the request's exact address and port.
  std::optional<std::string> same_port_file;
  // Transfers whose client has acknowledged nothing for a while (a real
  // client answers in milliseconds): when the server is full, the oldest
  // of them makes room for a new request instead of the request being
  // dropped. Forged requests from many addresses, each holding a slot up
  // to a minute, then cannot keep real clients out.
  size_t evictable = 0;
  // The server is stopping (SIGTERM): transfers in flight finish, no new
  // one starts; the request is dropped (the client retries elsewhere).
  bool stopping = false;
};

struct Peer {
  Endpoint endpoint;
  int mtu = 0;  // of the receiving interface; 0 when unknown
};

class FileLookup {
 public:
  virtual ~FileLookup() = default;
  using Result = std::variant<std::shared_ptr<const FileData>, Refusal>;
  // The file for a client's name, or a refusal (kNotFound, kAccess,
  // kUnreadable) with its ERROR code and text.
  virtual Result Open(const std::string& name) = 0;
};

struct Plan {
  std::string filename;
  wire::TftpMode mode = wire::TftpMode::kOctet;
  std::shared_ptr<const FileData> data;
  Negotiated options;
  SessionParams session;
  // The transfer from the same port (another file) ends first: the client
  // gave up on it.
  bool replaces = false;
  // Windows go out as one UDP_SEGMENT send.
  bool gso = false;
  // The server is full: the oldest evictable transfer ends first.
  bool evict_unheard = false;
};

using Admission = std::variant<Plan, Refusal>;

Admission Admit(absl::Span<const uint8_t> packet, const Peer& peer,
                const AdmitLimits& limits, const Occupancy& occupancy,
                FileLookup& lookup);

}  // namespace tftp

#endif  // PXEPROXY_TFTP_ADMIT_H_
