// A finding: a named problem (or remark) about a boot, with the packets that
// show it and a concrete fix, and how the findings files add to one.
#ifndef PXEPROXY_CAPTURE_FINDING_H_
#define PXEPROXY_CAPTURE_FINDING_H_

#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "capture/timeline.h"

namespace capture {

enum class Severity { kError, kWarning, kInfo };
const char* SeverityName(Severity s);

struct Evidence {
  int number = 0;
  absl::Time time;
};

struct Finding {
  std::string id;  // stable, snake_case: tests and tools match on it
  Severity severity = Severity::kError;
  std::string message;
  std::string fix;
  std::vector<Evidence> evidence;
  std::set<int> evidence_numbers;  // AddEvidence's de-dup of `evidence`
  // Evidence beyond kMaxEvidence, not listed (the list keeps the first ones
  // and the latest): a client retrying for hours is one finding, not pages.
  int evidence_more = 0;
};
constexpr size_t kMaxEvidence = 12;

// The finding with `id` in `out`; created with the texts when new, so that
// repeated evidence gathers under one finding.
Finding& Upsert(std::vector<Finding>& out, const std::string& id,
                Severity severity, const std::string& message,
                const std::string& fix);
void AddEvidence(Finding& f, int number, absl::Time time);
inline void AddEvidence(Finding& f, const Event& e) {
  AddEvidence(f, e.number, e.time);
}

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_FINDING_H_
