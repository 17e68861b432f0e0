// The diagnosis as text for people (grouped per client, a summary at the
// end) or as JSON lines for tools. Deterministic: golden tests compare bytes.
#ifndef PXEPROXY_CAPTURE_RENDER_H_
#define PXEPROXY_CAPTURE_RENDER_H_

#include <string>

#include "capture/diagnosis.h"

namespace capture {

struct RenderOptions {
  std::string source;  // "eth0" or the capture file's name
  bool color = false;  // ANSI colours (only when stdout is a terminal)
};

// render_text.cc
std::string RenderText(const Report& report, const RenderOptions& options);
// render_json.cc: one JSON object a line: "client" lines, "finding" lines for
// the segment, then one "summary" line.
std::string RenderJson(const Report& report, const RenderOptions& options);

// render_text.cc: "2 reached the menu, 1 stopped at binl (binl_unanswered)".
std::string SummaryLine(const Report& report);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_RENDER_H_
