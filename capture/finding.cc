#include "capture/finding.h"

namespace capture {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "?";
}

Finding& Upsert(std::vector<Finding>& out, const std::string& id,
                Severity severity, const std::string& message,
                const std::string& fix) {
  for (Finding& f : out) {
    if (f.id == id) return f;
  }
  out.push_back(Finding{id, severity, message, fix, {}});
  return out.back();
}

void AddEvidence(Finding& f, int number, absl::Time time) {
  if (f.evidence_numbers.count(number) ||
      (!f.evidence.empty() && f.evidence.back().number == number)) {
    return;
  }
  if (f.evidence.size() < kMaxEvidence) {
    f.evidence_numbers.insert(number);
    f.evidence.push_back({number, time});
    return;
  }
  // Full: the last slot shows the latest; the one it replaces is counted.
  ++f.evidence_more;
  if (number > f.evidence.back().number) {
    f.evidence_numbers.erase(f.evidence.back().number);
    f.evidence_numbers.insert(number);
    f.evidence.back() = {number, time};
  }
}

}  // namespace capture
