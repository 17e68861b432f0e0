// Running as a service: the serving loops in their threads, and in the main
// thread the signals (SIGHUP reloads, SIGINT/SIGTERM stop), systemd's
// readiness notification, status line and watchdog (README.md, "Running
// under systemd"; man pxeproxy, SIGNALS). Without $NOTIFY_SOCKET the
// notifications are no-ops.
#ifndef PXEPROXY_SERVICE_H_
#define PXEPROXY_SERVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "flags.h"
#include "proxydhcp/server.h"
#include "reload.h"
#include "tftp/server.h"

namespace pxeproxy {

// Blocks SIGINT, SIGTERM and SIGHUP (in this thread and every thread
// started after) and returns a signalfd that reads them.
int ControlSignalFd();

// The STATUS= line: interfaces, TFTP, menu.
std::string StatusLine(const Config& config);

// Whether the systemd watchdog may be fed: every loop has ticked within
// `limit_ms`.
bool LoopsAlive(const std::vector<int64_t>& ages_ms, int64_t limit_ms);

// How old a loop's last tick may be for the watchdog to be fed, given
// WatchdogSec in ms: half of it, but never less than a few ticks.
int64_t TickLimitMs(int64_t watchdog_ms);

struct Loops {
  proxydhcp::Server* dhcp = nullptr;
  tftp::Server* tftp = nullptr;  // null with --notftp
};

// Sends READY=1, runs the loops until a stop signal (0) or until a loop
// ends by itself (1), reloading on SIGHUP. `config` is the running
// configuration (reloads replace it); `positional` the interfaces.
int Serve(const Loops& loops, int signal_fd, Reloader* reloader,
          const std::vector<std::string>& positional, Config config);

}  // namespace pxeproxy

#endif  // PXEPROXY_SERVICE_H_
