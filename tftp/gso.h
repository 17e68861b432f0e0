// What a failed UDP GSO send (UDP_SEGMENT) says about the next ones. Pure, so
// the rule is tested without a kernel that refuses.
#ifndef PXEPROXY_TFTP_GSO_H_
#define PXEPROXY_TFTP_GSO_H_

#include <errno.h>

namespace tftp {

enum class GsoFallback {
  kRetryLater,    // the socket buffer is full: like a loss, the timer resends
  kThisTransfer,  // this transfer sends with sendmmsg from now on
  kEverywhere,    // the kernel cannot do UDP_SEGMENT: no transfer tries again
};

// `err` is the errno of the failed send; `ever_worked` whether any GSO send
// succeeded before. Only errors that mean "no UDP_SEGMENT here", seen before
// any success, disable GSO for every transfer: one transfer's odd error (a
// route that changed, a firewall's EPERM) must not slow all later ones.
inline GsoFallback GsoAfterError(int err, bool ever_worked) {
  if (err == EAGAIN || err == ENOBUFS) return GsoFallback::kRetryLater;
  bool unsupported =
      err == EINVAL || err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP;
  if (unsupported && !ever_worked) return GsoFallback::kEverywhere;
  return GsoFallback::kThisTransfer;
}

}  // namespace tftp

#endif  // PXEPROXY_TFTP_GSO_H_
