// Abseil 20220623 (Debian 12) has no RETURN_IF_ERROR / ASSIGN_OR_RETURN.
#ifndef PXEPROXY_WIRE_STATUS_MACROS_H_
#define PXEPROXY_WIRE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PXE_CONCAT_INNER_(a, b) a##b
#define PXE_CONCAT_(a, b) PXE_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status pxe_status_ = (expr);       \
    if (!pxe_status_.ok()) return pxe_status_; \
  } while (0)

// `lhs` is a declaration ("int x") and `statusor` a name: neither can be
// parenthesized, so clang-tidy's macro-parentheses check is off here.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(PXE_CONCAT_(pxe_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()
// NOLINTEND(bugprone-macro-parentheses)

#endif  // PXEPROXY_WIRE_STATUS_MACROS_H_
