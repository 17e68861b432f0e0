// Rate limit for log lines about hostile or broken input (hostile LAN).
// A LAN can send a million bad frames a second; counters stay exact, but the
// log gets at most one line per key per interval, and the next line allowed
// says how many were suppressed in between. Pure: the caller passes the time,
// so tests need no clock and the daemon decides what a key is (a reason name).
#ifndef PXEPROXY_WIRE_LOG_LIMITER_H_
#define PXEPROXY_WIRE_LOG_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace wire {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // At most `burst` lines per key in each `interval`.
  explicit LogLimiter(Clock::duration interval = std::chrono::seconds(10),
                      uint32_t burst = 1)
      : interval_(interval), burst_(burst) {}

  // nullopt: stay silent (the event is counted as suppressed). A value: log
  // now, and mention that many suppressed lines when it is not zero. Keys
  // are a closed set (reason names), so the map stays small.
  std::optional<uint64_t> Admit(const std::string& key, Clock::time_point now) {
    Entry& e = entries_[key];
    if (!e.logged || now - e.window_start >= interval_) {
      e.logged = true;
      e.window_start = now;
      e.in_window = 0;
    }
    if (e.in_window >= burst_) {
      ++e.suppressed;
      return std::nullopt;
    }
    ++e.in_window;
    uint64_t n = e.suppressed;
    e.suppressed = 0;
    return n;
  }

  // Lines suppressed for `key` and not yet reported by a later Admit: what a
  // caller flushes as a summary when the burst is over (and takes them).
  uint64_t TakeSuppressed(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return 0;
    uint64_t n = it->second.suppressed;
    it->second.suppressed = 0;
    return n;
  }

  // " (N more suppressed)" or "".
  static std::string Suffix(uint64_t suppressed) {
    if (suppressed == 0) return "";
    return " (" + std::to_string(suppressed) + " more suppressed)";
  }

 private:
  struct Entry {
    bool logged = false;
    Clock::time_point window_start{};
    uint32_t in_window = 0;
    uint64_t suppressed = 0;
  };
  Clock::duration interval_;
  uint32_t burst_;
  std::map<std::string, Entry> entries_;
};

}  // namespace wire

#endif  // PXEPROXY_WIRE_LOG_LIMITER_H_
