// Liveness of a serving loop, for the systemd watchdog (service.cc): the
// loop ticks once a round (its wait is capped at kTickMs), the main thread
// reads the age of the last tick.
#ifndef PXEPROXY_WIRE_HEARTBEAT_H_
#define PXEPROXY_WIRE_HEARTBEAT_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace wire {

class Heartbeat {
 public:
  // A loop waits at most this long before it ticks again.
  static constexpr int kTickMs = 1000;
  using Clock = std::chrono::steady_clock;

  Heartbeat() { Tick(); }
  void Tick() { last_.store(Now(), std::memory_order_relaxed); }
  int64_t AgeMs() const {
    return Now() - last_.load(std::memory_order_relaxed);
  }
  // `timeout_ms` (-1: none) capped so that the loop ticks in time.
  static int Cap(int timeout_ms) {
    return timeout_ms < 0 || timeout_ms > kTickMs ? kTickMs : timeout_ms;
  }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               Clock::now().time_since_epoch())
        .count();
  }
  std::atomic<int64_t> last_;
};

}  // namespace wire

#endif  // PXEPROXY_WIRE_HEARTBEAT_H_
