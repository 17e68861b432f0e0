// TFTP findings (docs/protocol.md "Diagnose findings").
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "capture/describe.h"
#include "capture/finding.h"
#include "capture/finding_ids.h"
#include "capture/findings.h"
#include "capture/index.h"

namespace capture {
namespace {

// A 1500-byte Ethernet MTU minus the IPv4 (20), UDP (8) and TFTP (4)
// headers (docs/protocol.md "TFTP requests and options").
constexpr size_t kEthernetBlksize = 1468;

bool HasGarbage(const std::string& name) {
  for (unsigned char ch : name) {
    if (ch < 0x21 || ch >= 0x7f) return true;
  }
  return false;
}

void CheckAnswer(const TftpTransfer& t, std::vector<Finding>& out) {
  if (!t.reply_ip) {
    Finding& f = Upsert(
        out, "tftp_no_answer", Severity::kError,
        absl::StrCat("The TFTP request for '", Printable(t.filename), "' to ",
                     Ip(t.server_ip), " got no answer (sent ", t.rrq_count,
                     " times): TFTP is blocked or not running there."),
        absl::StrCat(
            "Run a TFTP server at ", Ip(t.server_ip),
            " (pxeproxy's built-in one: --tftp, the default) and let UDP port "
            "69 in, plus its replies from ephemeral ports (stateful "
            "firewalls need the nf_conntrack_tftp helper). If the boot file "
            "lives elsewhere, point --tftp_server there."));
    AddEvidence(f, t.rrq_number, t.rrq_time);
    if (t.last_number != t.rrq_number) {
      AddEvidence(f, t.last_number, t.last_time);
    }
    return;
  }
  if (*t.reply_ip != t.server_ip) {
    Finding& f = Upsert(
        out, "tftp_wrong_source", Severity::kError,
        absl::StrCat("The TFTP request went to ", Ip(t.server_ip),
                     " but the answer came from ", Ip(*t.reply_ip),
                     ": clients drop replies from another address (a "
                     "multi-homed TFTP server)."),
        absl::StrCat("Make the TFTP server answer from the address it was "
                     "asked on (pxeproxy's built-in server does; tftpd-hpa: "
                     "--address ",
                     Ip(t.server_ip), "), or set --tftp_server to ",
                     Ip(*t.reply_ip), "."));
    AddEvidence(f, t.rrq_number, t.rrq_time);
    AddEvidence(f, t.first_reply_number, t.first_reply_time);
  }
}

std::string ErrorFix(uint16_t code, const std::string& file) {
  switch (code) {
    case 1:
      return absl::StrCat("Put '", Printable(file),
                          "' in the TFTP root (pxeproxy: --tftp_root, by "
                          "default /usr/lib/ipxe from Debian's ipxe package) "
                          "or correct the boot file flag.");
    case 2:
      return "Check the file's permissions, and that symlinks stay inside "
             "the root or --tftp_symlink_allow.";
    case 8:
      return "The server refused the client's options: pxeproxy's server "
             "accepts blksize, tsize, timeout and windowsize; with another "
             "server, lower its blksize limit or enable RFC 2347 options.";
  }
  return "See the TFTP server's log for this error.";
}

void CheckErrors(const ClientTimeline& c, std::vector<Finding>& out) {
  for (const Event& e : c.events) {
    auto* te = std::get_if<TftpEvent>(&e.body);
    if (te == nullptr || te->step != TftpStep::kError) continue;
    const TftpTransfer& t = c.transfers[te->transfer];
    if (t.size_probe) continue;
    const bool options = te->packet.error_code == 8;
    Finding& f =
        Upsert(out, options ? "tftp_option_refused" : kFindingTftpError,
               Severity::kError,
               absl::StrCat("TFTP ERROR ", te->packet.error_code, " \"",
                            Printable(te->packet.error_message), "\" from ",
                            te->from_client ? "the client" : Ip(*t.reply_ip),
                            " for '", Printable(t.filename), "'."),
               ErrorFix(te->packet.error_code, t.filename));
    AddEvidence(f, e);
  }
}

// OACK accepted but the data never flowed: blksize beyond the path MTU, or
// the client never acknowledged the OACK or block 1.
void CheckFlow(const TftpTransfer& t, std::vector<Finding>& out) {
  if (!t.reply_ip || t.done || t.error) return;
  if (t.oack_number != 0 && !t.acked_block1) {
    if (t.blksize > kEthernetBlksize || t.fragments > 0) {
      Finding& f = Upsert(
          out, "tftp_blksize_too_big", Severity::kError,
          absl::StrFormat(
              "The server accepted blksize %d: DATA packets of %d bytes "
              "exceed a 1500-byte path, arrive fragmented (%d IPv4 "
              "fragments seen) or not at all, and block 1 was never "
              "acknowledged.",
              t.blksize, t.blksize + 32, t.fragments),
          "Cap the block size: pxeproxy --tftp_max_blksize=1468 (1500-byte "
          "MTU) or lower on VPN/VXLAN paths (1024 is safe). pxeproxy clamps "
          "to the interface MTU, not to the path's.");
      AddEvidence(f, t.oack_number, t.oack_time);
      if (t.fragments > 0)
        AddEvidence(f, t.first_fragment_number, t.first_fragment_time);
      AddEvidence(f, t.last_number, t.last_time);
      return;
    }
    Finding& f = Upsert(
        out, kFindingTftpNoAckAfterOack, Severity::kError,
        absl::StrCat(t.acked_block0
                         ? "The client acknowledged the OACK but never "
                           "block 1"
                         : "The client never acknowledged the OACK",
                     " of '", Printable(t.filename),
                     "': the server's packets from its transfer port do not "
                     "reach it, or their size does not fit the path."),
        "Check that the firewall lets the server's replies from its "
        "ephemeral port through (or use --tftp_single_port), and try a "
        "smaller block size: --tftp_max_blksize=1024.");
    AddEvidence(f, t.oack_number, t.oack_time);
    AddEvidence(f, t.last_number, t.last_time);
    return;
  }
  if (t.blocks > 0) {
    Finding& f = Upsert(
        out, kFindingTftpIncomplete, Severity::kError,
        absl::StrCat("The transfer of '", Printable(t.filename),
                     "' stopped after ", t.blocks, " blocks (", t.bytes,
                     " bytes) with no end and no error."),
        "Packet loss between server and client: check the link, and lower "
        "--tftp_max_windowsize (e.g. 4) and --tftp_max_blksize.");
    AddEvidence(f, t.last_number, t.last_time);
  }
}

// 8. A filename with trailing bytes: the offer's name lacked its NUL.
void CheckGarbage(const TftpTransfer& t, std::vector<Finding>& out) {
  if (!HasGarbage(t.filename)) return;
  Finding& f = Upsert(
      out, "rrq_trailing_garbage", Severity::kError,
      absl::StrCat("The client asked for '", Printable(t.filename),
                   "': the name has bytes that are not part of a file name, "
                   "as when the boot file in the offer is not "
                   "NUL-terminated and the ROM reads past it."),
      "Send the boot file NUL-terminated in both the file field and option "
      "67 (pxeproxy does); with another server, add the NUL to option 67 "
      "or use the file field.");
  AddEvidence(f, t.rrq_number, t.rrq_time);
}

}  // namespace

std::vector<Finding> TftpFindings(const ClientTimeline& c,
                                  const AnalyzerConfig& config) {
  std::vector<Finding> out;
  for (const TftpTransfer& t : c.transfers) {
    CheckAnswer(t, out);
    CheckFlow(t, out);
    CheckGarbage(t, out);
  }
  CheckErrors(c, out);
  return out;
}

}  // namespace capture
