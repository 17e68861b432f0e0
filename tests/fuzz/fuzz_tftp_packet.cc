// The TFTP packet codec (wire/tftp_packet.h) and option negotiation on
// arbitrary bytes. Properties: a parsed ACK or ERROR builds back into bytes
// that parse to the same value; a parsed request has lower-cased mode and
// option names; Negotiate on its options either refuses or answers values
// within the limits, and its OACK parses back as the option list it carries.
#include <cctype>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "tftp/options.h"
#include "wire/tftp_packet.h"

namespace {

bool Lower(const std::string& s) {
  for (unsigned char c : s) {
    if (std::isupper(c)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::Span<const uint8_t> in(data, size);
  absl::StatusOr<wire::TftpOpcode> op = wire::PeekTftpOpcode(in);
  // Two bytes, opcode 1..6.
  FUZZ_CHECK(op.ok() ==
             (size >= 2 && data[0] == 0 && data[1] >= 1 && data[1] <= 6));

  absl::StatusOr<wire::TftpAck> ack = wire::ParseTftpAck(in);
  if (ack.ok()) {
    absl::StatusOr<wire::TftpAck> back =
        wire::ParseTftpAck(wire::BuildTftpAck(ack->block));
    FUZZ_CHECK(back.ok() && back->block == ack->block);
  }
  absl::StatusOr<wire::TftpErrorPacket> err = wire::ParseTftpError(in);
  if (err.ok() && err->code <= 8 &&
      err->message.find('\0') == std::string::npos) {
    absl::StatusOr<wire::TftpErrorPacket> back =
        wire::ParseTftpError(wire::BuildTftpError(
            static_cast<wire::TftpErrorCode>(err->code), err->message));
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->code == err->code && back->message == err->message);
  }
  absl::StatusOr<wire::TftpRequest> req = wire::ParseTftpRequest(in);
  if (!req.ok()) return 0;
  FUZZ_CHECK(Lower(req->mode));
  for (const auto& [name, value] : req->options) FUZZ_CHECK(Lower(name));
  wire::TftpMode mode;
  wire::ParseTftpMode(req->mode, &mode);

  // Negotiation with the limits a 1500-byte MTU gives, with and without a
  // known size (netascii).
  tftp::NegotiationLimits limits;
  limits.max_blksize = 1468;
  for (bool known : {true, false}) {
    std::optional<uint64_t> tsize;
    if (known) tsize = 123456;
    absl::StatusOr<tftp::Negotiated> n =
        tftp::Negotiate(req->options, tsize, limits);
    if (!n.ok()) continue;
    FUZZ_CHECK(n->blksize >= tftp::kMinBlksize &&
               n->blksize <= limits.max_blksize);
    FUZZ_CHECK(n->windowsize >= 1 && n->windowsize <= limits.max_windowsize);
    FUZZ_CHECK(n->timeout_ms > 0);
    if (n->oack.empty()) continue;
    std::vector<uint8_t> oack = wire::BuildTftpOack(n->oack);
    // An OACK has the layout of a request without file name and mode: put
    // an RRQ header in front of it to read its options back.
    std::vector<uint8_t> as_rrq = {0, 1, 'f', 0, 'o', 'c', 't', 'e', 't', 0};
    as_rrq.insert(as_rrq.end(), oack.begin() + 2, oack.end());
    absl::StatusOr<wire::TftpRequest> back = wire::ParseTftpRequest(as_rrq);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->options == n->oack);
  }
  return 0;
}
