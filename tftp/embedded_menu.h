// The iPXE script pxeproxy serves over its own TFTP when no --menu_url is
// given, so that `pxeproxy eth0` alone boots a client into something useful.
#ifndef PXEPROXY_TFTP_EMBEDDED_MENU_H_
#define PXEPROXY_TFTP_EMBEDDED_MENU_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tftp {

// `version` is shown in the menu title.
std::string EmbeddedMenu(absl::string_view version);

}  // namespace tftp

#endif  // PXEPROXY_TFTP_EMBEDDED_MENU_H_
