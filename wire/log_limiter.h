// Rate limit for log lines about hostile or broken input (issue 9, item 8).
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

  explicit LogLimiter(Clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // nullopt: stay silent (the event is counted as suppressed). A value: log
  // now, and mention that many suppressed lines when it is not zero. Keys
  // are a closed set (reason names), so the map stays small.
  std::optional<uint64_t> Admit(const std::string& key, Clock::time_point now) {
    Entry& e = entries_[key];
    if (e.logged && now - e.last < interval_) {
      ++e.suppressed;
      return std::nullopt;
    }
    e.logged = true;
    e.last = now;
    uint64_t n = e.suppressed;
    e.suppressed = 0;
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
    Clock::time_point last{};
    uint64_t suppressed = 0;
  };
  Clock::duration interval_;
  std::map<std::string, Entry> entries_;
};

}  // namespace wire

#endif  // PXEPROXY_WIRE_LOG_LIMITER_H_
