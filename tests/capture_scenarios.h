// Deterministic broken-boot scenarios for the diagnose mode, derived from
// the real firmware captures (tests/fixtures/captures) by dropping, moving
// and altering packets with the project's own wire/ and proxydhcp codecs.
// They stand in for lab recordings until those exist; each is written to
// tests/fixtures/diagnose/<name>.pcap by the golden test's regenerate switch.
#ifndef PXEPROXY_TESTS_CAPTURE_SCENARIOS_H_
#define PXEPROXY_TESTS_CAPTURE_SCENARIOS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/decode.h"
#include "capture/timeline.h"

namespace capture_test {

using Frames = std::vector<capture::Frame>;

struct Scenario {
  std::string name;     // fixture file stem
  std::string base;     // capture it derives from
  std::string finding;  // the finding id that must name it
  bool ok = false;      // whether the client still reaches the menu
  std::function<Frames(Frames)> make;
  // Flags other than the golden ones (e.g. no --http_boot_url).
  std::function<void(proxydhcp::ResponderConfig&)> flags;
};

std::vector<Scenario> Scenarios();

// The configuration all goldens use (the flags of the captures' lab).
capture::AnalyzerConfig GoldenConfig();

std::string SourceDir();
absl::StatusOr<Frames> ReadFrames(const std::string& path);
// Ethernet pcap, microsecond timestamps; the bytes depend on `frames` only.
absl::Status WriteFrames(const std::string& path, const Frames& frames);

}  // namespace capture_test

#endif  // PXEPROXY_TESTS_CAPTURE_SCENARIOS_H_
