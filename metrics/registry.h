// Counters, gauges and histograms for the Prometheus text exposition
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure: no
// sockets, no clock. Every series is registered at start-up; afterwards the
// serving threads update them with relaxed atomics (no lock, no allocation on
// the hot path) while the HTTP thread renders them.
#ifndef PXEPROXY_METRICS_REGISTRY_H_
#define PXEPROXY_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace metrics {

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return v_.load(std::memory_order_relaxed); }
  // Mirrors a total kept elsewhere, which must itself only grow.
  void Set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Add(int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t n) { v_.store(n, std::memory_order_relaxed); }
  int64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds (inclusive), ascending; +Inf is
  // implied.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  // A series of the family `name` (created with `help` on first use) with
  // `labels`. Registering is not thread-safe: do it before the threads start.
  // A name or label that breaks the conventions (`[a-zA-Z_:][a-zA-Z0-9_:]*`,
  // counters ending in _total, one type per family) is a programming error,
  // kept in status() (the unit tests check it stays OK).
  Counter* AddCounter(const std::string& name, const std::string& help,
                      Labels labels = {});
  Gauge* AddGauge(const std::string& name, const std::string& help,
                  Labels labels = {});
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> bounds, Labels labels = {});
  // The exposition (text format 0.0.4), families in registration order.
  std::string Render() const;
  // The first convention broken by a registration, OK if none.
  const absl::Status& status() const { return status_; }

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::deque<Series> series;
  };
  Series& Add(const std::string& name, const std::string& help, Type type,
              Labels labels);
  void Fail(const std::string& why);

  std::deque<Family> families_;
  absl::Status status_;
};

// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabelValue(const std::string& v);
// A number as the text format writes it: integers plainly, +Inf, NaN.
std::string FormatValue(double v);

}  // namespace metrics

#endif  // PXEPROXY_METRICS_REGISTRY_H_
