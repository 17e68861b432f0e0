// The diagnose analysis (capture/) over random captures: decoding, the
// per-client timelines with their dry runs of Decide, the findings, and both
// renderings.
//
// Input: byte 0 chooses the form, byte 1 the analyzer's configuration.
//  - form odd: the rest is a capture file (pcap or pcapng), read through
//    PcapSource exactly as `pxeproxy --diagnose FILE` does (from a memfd);
//  - form even: the rest is a sequence of frames for TimelineBuilder, each
//    a 2-byte length, a 2-byte time step in milliseconds and that many bytes,
//    on the link type (form >> 1) % 3 (Ethernet, Linux SLL, raw IPv4).
// Time per input is bounded: at most kMaxFrames frames are analyzed (a
// regression in the analysis's complexity then shows as a slow input, which
// -timeout turns into a failure).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "capture/diagnose.h"
#include "capture/render.h"
#include "capture/timeline.h"
#include "fuzz_util.h"

namespace {

constexpr int kMaxFrames = 2000;

capture::AnalyzerConfig Config(uint8_t c) {
  capture::AnalyzerConfig config;
  proxydhcp::ResponderConfig& r = config.responder;
  r.boot_files[proxydhcp::BootArch::kBios] = "undionly.kpxe";
  r.boot_files[proxydhcp::BootArch::kEfiX64] = "snponly.efi";
  if (c & 1) r.menu_url = "http://10.231.0.1/menu.ipxe";
  if (c & 2) r.uefi_strategy = proxydhcp::UefiStrategy::kBypass;
  if (c & 4) r.http_boot_url = "http://10.231.0.1/ipxe.efi";
  if (c & 8) {
    config.self_addresses = {{0x0ae70001, 24}, {0x0a630001, 24, true}};
  }
  return config;
}

void Render(const capture::Report& report) {
  capture::RenderOptions options;
  options.source = "fuzz.pcap";
  capture::RenderText(report, options);
  capture::RenderJson(report, options);
  options.color = true;
  capture::RenderText(report, options);
  capture::SummaryLine(report);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t form = in.U8();
  capture::AnalyzerConfig config = Config(in.U8());
  if (form & 1) {
    absl::Span<const uint8_t> file = in.Rest();
    int fd = memfd_create("fuzz_diagnose", 0);
    FUZZ_CHECK(fd >= 0);
    size_t done = 0;
    while (done < file.size()) {
      ssize_t n = write(fd, file.data() + done, file.size() - done);
      FUZZ_CHECK(n > 0);
      done += static_cast<size_t>(n);
    }
    absl::Status read_error;
    absl::StatusOr<capture::Report> report = capture::AnalyzeFile(
        "/proc/self/fd/" + std::to_string(fd), config, &read_error);
    close(fd);
    if (report.ok()) Render(*report);
    return 0;
  }
  static const capture::LinkType kLinks[] = {capture::LinkType::kEthernet,
                                             capture::LinkType::kLinuxSll,
                                             capture::LinkType::kRawIpv4};
  capture::TimelineBuilder builder(kLinks[(form >> 1) % 3], config);
  absl::Time t = absl::FromUnixSeconds(1700000000);
  for (int n = 1; !in.empty() && n <= kMaxFrames; ++n) {
    capture::Frame frame;
    frame.number = n;
    size_t len = in.U16();
    t += absl::Milliseconds(in.U16());
    frame.time = t;
    absl::Span<const uint8_t> bytes = in.Bytes(len);
    frame.bytes.assign(bytes.begin(), bytes.end());
    frame.wire_length = static_cast<uint32_t>(len);
    builder.Add(frame);
  }
  capture::Report report =
      capture::Diagnose(std::move(builder).Finish(), config);
  Render(report);
  return 0;
}
