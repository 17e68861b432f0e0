// Finding ids shared by --diagnose (capture/findings_*.cc) and the daemon's
// boot log (metrics/boot_log.h): one vocabulary, so that a stall the daemon
// logs and the diagnosis of a capture of it carry the same name.
#ifndef PXEPROXY_CAPTURE_FINDING_IDS_H_
#define PXEPROXY_CAPTURE_FINDING_IDS_H_

namespace capture {

inline constexpr char kFindingEdk2DroppedProxyOffer[] =
    "edk2_dropped_proxy_offer";
inline constexpr char kFindingIpxeChainloadLoop[] = "ipxe_chainload_loop";
inline constexpr char kFindingTftpNoAckAfterOack[] = "tftp_no_ack_after_oack";
inline constexpr char kFindingTftpIncomplete[] = "tftp_incomplete";
inline constexpr char kFindingTftpError[] = "tftp_error";

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_FINDING_IDS_H_
