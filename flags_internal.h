// What the configuration builders read: the flags (defined in flags.cc,
// where --help finds them) and the repeatable flags' values.
#ifndef PXEPROXY_FLAGS_INTERNAL_H_
#define PXEPROXY_FLAGS_INTERNAL_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, menu_url);
ABSL_DECLARE_FLAG(std::string, boot_file_bios);
ABSL_DECLARE_FLAG(std::string, boot_file_efi_x64);
ABSL_DECLARE_FLAG(std::string, boot_file_efi_ia32);
ABSL_DECLARE_FLAG(std::string, boot_file_efi_arm64);
ABSL_DECLARE_FLAG(std::string, http_boot_url);
ABSL_DECLARE_FLAG(std::string, boot_file);
ABSL_DECLARE_FLAG(std::string, tftp_server);
ABSL_DECLARE_FLAG(std::string, uefi_strategy);
ABSL_DECLARE_FLAG(int, uefi_adaptive_window);
ABSL_DECLARE_FLAG(std::string, reverse_path);
ABSL_DECLARE_FLAG(std::vector<std::string>, vendor_class_prefixes);
ABSL_DECLARE_FLAG(std::vector<std::string>, ipxe_user_classes);
ABSL_DECLARE_FLAG(std::string, mac_rules_file);
ABSL_DECLARE_FLAG(bool, raspberry_pi);
ABSL_DECLARE_FLAG(int, ipxe_priority);
ABSL_DECLARE_FLAG(bool, tftp);
ABSL_DECLARE_FLAG(std::string, tftp_root);
ABSL_DECLARE_FLAG(std::vector<std::string>, tftp_symlink_allow);
ABSL_DECLARE_FLAG(int, tftp_port);
ABSL_DECLARE_FLAG(int, tftp_max_blksize);
ABSL_DECLARE_FLAG(int, tftp_max_windowsize);
ABSL_DECLARE_FLAG(int, tftp_max_sessions);
ABSL_DECLARE_FLAG(int, tftp_max_sessions_per_host);
ABSL_DECLARE_FLAG(bool, tftp_listen_all);
ABSL_DECLARE_FLAG(bool, tftp_single_port);
ABSL_DECLARE_FLAG(std::string, user);
ABSL_DECLARE_FLAG(std::string, diagnose);
ABSL_DECLARE_FLAG(int, diagnose_seconds);
ABSL_DECLARE_FLAG(std::string, diagnose_write);
ABSL_DECLARE_FLAG(std::string, diagnose_format);
ABSL_DECLARE_FLAG(std::string, metrics_address);
ABSL_DECLARE_FLAG(int, boot_stall_seconds);
ABSL_DECLARE_FLAG(bool, check);
ABSL_DECLARE_FLAG(int, v);
ABSL_DECLARE_FLAG(bool, logtostderr);
ABSL_DECLARE_FLAG(std::string, log_dir);

namespace pxeproxy {

// Every value a repeatable flag (boot_file, http_boot_url) was given, in
// order; none when it is now "".
std::vector<std::string> RepeatedValues(const std::string& name);

}  // namespace pxeproxy

#endif  // PXEPROXY_FLAGS_INTERNAL_H_
