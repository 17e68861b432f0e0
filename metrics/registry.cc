#include "metrics/registry.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace metrics {
namespace {

bool ValidName(const std::string& n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string EscapeHelp(const std::string& h) {
  std::string out;
  for (char c : h) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string LabelText(const Labels& labels,
                      const std::pair<std::string, std::string>* extra) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) {
    parts.push_back(absl::StrCat(k, "=\"", EscapeLabelValue(v), "\""));
  }
  if (extra) {
    parts.push_back(absl::StrCat(extra->first, "=\"", extra->second, "\""));
  }
  if (parts.empty()) return "";
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return absl::StrFormat("%.0f", v);
  }
  return absl::StrFormat("%.9g", v);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  // Few buckets (a dozen): a linear scan beats a binary search's branches.
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

void Registry::Fail(const std::string& why) {
  if (status_.ok()) status_ = absl::InvalidArgumentError(why);
}

Registry::Series& Registry::Add(const std::string& name,
                                const std::string& help, Type type,
                                Labels labels) {
  if (!ValidName(name, true))
    Fail(absl::StrCat("bad metric name '", name, "'"));
  if (type == Type::kCounter && !absl::EndsWith(name, "_total")) {
    Fail(absl::StrCat("counter '", name, "' does not end in _total"));
  }
  for (const auto& [k, v] : labels) {
    if (!ValidName(k, false) || absl::StartsWith(k, "__") ||
        (type == Type::kHistogram && k == "le")) {
      Fail(absl::StrCat("metric '", name, "': bad label name '", k, "'"));
    }
  }
  Family* family = nullptr;
  for (Family& f : families_) {
    if (f.name == name) family = &f;
  }
  if (family == nullptr) {
    families_.push_back({name, help, type, {}});
    family = &families_.back();
  } else if (family->type != type) {
    Fail(absl::StrCat("metric '", name, "' registered with two types"));
  }
  for (const Series& s : family->series) {
    if (s.labels == labels) {
      Fail(absl::StrCat("metric '", name, "': the same labels twice"));
    }
  }
  family->series.push_back({std::move(labels), nullptr, nullptr, nullptr});
  return family->series.back();
}

Counter* Registry::AddCounter(const std::string& name, const std::string& help,
                              Labels labels) {
  Series& s = Add(name, help, Type::kCounter, std::move(labels));
  s.counter = std::make_unique<Counter>();
  return s.counter.get();
}

Gauge* Registry::AddGauge(const std::string& name, const std::string& help,
                          Labels labels) {
  Series& s = Add(name, help, Type::kGauge, std::move(labels));
  s.gauge = std::make_unique<Gauge>();
  return s.gauge.get();
}

Histogram* Registry::AddHistogram(const std::string& name,
                                  const std::string& help,
                                  std::vector<double> bounds, Labels labels) {
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (!(bounds[i - 1] < bounds[i])) {
      Fail(absl::StrCat("histogram '", name, "': bounds not ascending"));
    }
  }
  Series& s = Add(name, help, Type::kHistogram, std::move(labels));
  s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return s.histogram.get();
}

std::string Registry::Render() const {
  std::string out;
  for (const Family& f : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    absl::StrAppend(&out, "# HELP ", f.name, " ", EscapeHelp(f.help), "\n",
                    "# TYPE ", f.name, " ", type, "\n");
    for (const Series& s : f.series) {
      if (s.counter) {
        absl::StrAppend(&out, f.name, LabelText(s.labels, nullptr), " ",
                        s.counter->Value(), "\n");
      } else if (s.gauge) {
        absl::StrAppend(&out, f.name, LabelText(s.labels, nullptr), " ",
                        s.gauge->Value(), "\n");
      } else {
        Histogram::Snapshot snap = s.histogram->Read();
        const std::vector<double>& bounds = s.histogram->bounds();
        for (size_t i = 0; i <= bounds.size(); ++i) {
          std::pair<std::string, std::string> le{
              "le", i < bounds.size() ? FormatValue(bounds[i]) : "+Inf"};
          absl::StrAppend(&out, f.name, "_bucket", LabelText(s.labels, &le),
                          " ", snap.cumulative[i], "\n");
        }
        absl::StrAppend(&out, f.name, "_sum", LabelText(s.labels, nullptr), " ",
                        FormatValue(snap.sum), "\n", f.name, "_count",
                        LabelText(s.labels, nullptr), " ",
                        snap.cumulative.back(), "\n");
      }
    }
  }
  return out;
}

}  // namespace metrics
