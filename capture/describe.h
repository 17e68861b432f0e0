// Plain-words descriptions of timeline events and dry runs, shared by the
// findings and both renderers.
#ifndef PXEPROXY_CAPTURE_DESCRIBE_H_
#define PXEPROXY_CAPTURE_DESCRIBE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "capture/timeline.h"

namespace capture {

// Non-printable bytes as \xNN, so hostile names cannot drive the terminal.
std::string Printable(absl::string_view s);
// An address, with pxeproxy's placeholder shown as "<this host>".
std::string Ip(wire::Ipv4 ip);
// One timeline line, without packet number or time.
std::string DescribeEvent(const ClientTimeline& c, const Event& e);
// "would OFFER snponly.efi (...)" or "would stay silent: reason".
std::string DescribeDryRun(const DryRun& d);
// "UEFI x64 PXE firmware (PXEClient:Arch:00007:UNDI:003000), then iPXE".
std::string DescribeClient(const ClientTimeline& c);
// A short label for an architecture: "BIOS", "UEFI x64", "UEFI ARM64".
std::string ArchLabel(uint16_t arch);
// The flag that gives an arch its boot file, "--boot_file_efi_x64"; empty
// for an arch without one of its own (--boot_file=NAME=FILE serves those).
std::string ArchFlag(uint16_t arch);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_DESCRIBE_H_
