#include "service.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"

namespace pxeproxy {

int ControlSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  PCHECK(fd >= 0) << "signalfd";
  return fd;
}

std::string StatusLine(const Config& config) {
  std::string s =
      absl::StrCat("serving ", absl::StrJoin(config.interfaces, " "));
  if (config.tftp_enabled) {
    absl::StrAppend(&s, ", TFTP port ", config.tftp.port, " from ",
                    config.tftp.root);
  }
  absl::StrAppend(&s, "; iPXE menu ",
                  config.responder.menu_url.empty()
                      ? std::string("(embedded)")
                      : config.responder.menu_url);
  return s;
}

bool LoopsAlive(const std::vector<int64_t>& ages_ms, int64_t limit_ms) {
  return std::all_of(ages_ms.begin(), ages_ms.end(),
                     [&](int64_t age) { return age <= limit_ms; });
}

int64_t TickLimitMs(int64_t watchdog_ms) {
  return std::max<int64_t>(watchdog_ms / 2,
                           int64_t{3} * wire::Heartbeat::kTickMs);
}

namespace {

// sd_notify without $NOTIFY_SOCKET does nothing (and returns 0).
void Notify(const std::string& state) {
  int rc = sd_notify(0, state.c_str());
  if (rc < 0) {
    LOG_FIRST_N(WARNING, 3) << "sd_notify(" << state.substr(0, state.find('\n'))
                            << "): " << strerror(-rc);
  }
}

// SIGHUP: the flags again, logged, handed to the loops. Returns the status
// line for systemd.
std::string Reload(const Loops& loops, Reloader* reloader,
                   const std::vector<std::string>& positional,
                   Config* running) {
  absl::StatusOr<Reloaded> r = reloader->Reload(positional);
  if (!r.ok()) {
    LOG(ERROR) << "reload refused: " << r.status().message()
               << "; the running configuration stays";
    return absl::StrCat("reload refused (see the log); ", StatusLine(*running));
  }
  for (const std::string& name : r->diff.need_restart) {
    LOG(WARNING) << "reload: --" << name
                 << " changed, which needs a restart (systemctl restart "
                    "pxeproxy); it keeps its running value until then";
  }
  std::vector<std::string> applied;
  for (const std::string& name : r->diff.applied) {
    applied.push_back("--" + name);
  }
  std::string rules;
  if (!r->config.responder.mac_rules.empty()) {
    rules =
        absl::StrCat("; ", r->config.responder.mac_rules.size(), " MAC rules");
  }
  LOG(INFO) << "reload: "
            << (applied.empty()
                    ? std::string("no flag changed")
                    : "now in effect: " + absl::StrJoin(applied, " "))
            << rules;
  loops.dhcp->Reconfigure(r->config.responder);
  if (loops.tftp != nullptr) loops.tftp->Reconfigure(r->config.tftp);
  FLAGS_v = GetLoggingFlags().v;
  *running = std::move(r->config);
  return StatusLine(*running);
}

}  // namespace

namespace {

// The loops in their threads: they stop when `stop_fd` becomes readable
// and, when one ends, make `done_fd` readable.
struct Threads {
  std::thread dhcp;
  std::thread tftp;
};
Threads StartLoops(const Loops& loops, int stop_fd, int done_fd) {
  auto signal_done = [done_fd] {
    uint64_t one = 1;
    PCHECK(write(done_fd, &one, sizeof(one)) == sizeof(one));
  };
  Threads t;
  t.dhcp = std::thread([=] {
    loops.dhcp->Run(stop_fd);
    signal_done();
  });
  if (loops.tftp != nullptr) {
    t.tftp = std::thread([=] {
      loops.tftp->Run(stop_fd);
      signal_done();
    });
  }
  return t;
}

// The systemd watchdog: fed while every loop has ticked recently.
class Watchdog {
 public:
  Watchdog() {
    uint64_t watchdog_us = 0;
    if (sd_watchdog_enabled(0, &watchdog_us) <= 0) watchdog_us = 0;
    watchdog_ms_ = static_cast<int64_t>(watchdog_us / 1000);
    limit_ms_ = TickLimitMs(watchdog_ms_);
    if (watchdog_ms_ > 0) {
      LOG(INFO) << "systemd watchdog: " << watchdog_ms_
                << " ms; fed while every loop runs";
    }
  }
  // How long the main thread may wait before Check: -1, no limit.
  int WaitMs() const {
    return watchdog_ms_ > 0
               ? static_cast<int>(std::max<int64_t>(watchdog_ms_ / 4, 1))
               : -1;
  }
  void Check(const Loops& loops) {
    if (watchdog_ms_ <= 0) return;
    std::vector<int64_t> ages = {loops.dhcp->heartbeat().AgeMs()};
    if (loops.tftp != nullptr) ages.push_back(loops.tftp->heartbeat().AgeMs());
    if (LoopsAlive(ages, limit_ms_)) {
      Notify("WATCHDOG=1");
      stalled_ = false;
    } else if (!stalled_) {
      stalled_ = true;
      LOG(ERROR) << "a serving loop has not run for "
                 << *std::max_element(ages.begin(), ages.end())
                 << " ms: the systemd watchdog is no longer fed";
    }
  }

 private:
  int64_t watchdog_ms_ = 0;
  int64_t limit_ms_ = 0;
  bool stalled_ = false;
};

// Reads the pending signals: SIGHUP reloads; true on a stop signal.
bool HandleSignals(int signal_fd, const Loops& loops, Reloader* reloader,
                   const std::vector<std::string>& positional, Config* config) {
  bool stop = false;
  signalfd_siginfo si;
  while (read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
    if (si.ssi_signo == SIGHUP) {
      LOG(INFO) << "SIGHUP: reloading the configuration";
      Notify("RELOADING=1");
      std::string status = Reload(loops, reloader, positional, config);
      Notify(absl::StrCat("READY=1\nSTATUS=", status));
    } else {
      LOG(INFO) << strsignal(si.ssi_signo) << ": stopping";
      stop = true;
    }
  }
  return stop;
}

}  // namespace

int Serve(const Loops& loops, int signal_fd, Reloader* reloader,
          const std::vector<std::string>& positional, Config config) {
  // Both loops stop when this eventfd becomes readable; `done_fd` tells
  // this thread that a loop has ended.
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  PCHECK(stop_fd >= 0 && done_fd >= 0) << "eventfd";
  Threads threads = StartLoops(loops, stop_fd, done_fd);
  // Every socket was opened before this (Create), root is given up.
  Notify(absl::StrCat("READY=1\nSTATUS=", StatusLine(config)));
  Watchdog watchdog;
  int rc = 0;
  for (;;) {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {done_fd, POLLIN, 0}};
    int n = poll(fds, 2, watchdog.WaitMs());
    if (n < 0 && errno != EINTR) {
      PLOG(ERROR) << "poll";
      rc = 1;
      break;
    }
    if (n > 0 && fds[1].revents != 0) {
      LOG(ERROR) << "a serving loop has ended: stopping";
      rc = 1;
      break;
    }
    if (n > 0 && fds[0].revents != 0 &&
        HandleSignals(signal_fd, loops, reloader, positional, &config)) {
      break;
    }
    watchdog.Check(loops);
  }
  Notify("STOPPING=1\nSTATUS=stopping");
  uint64_t one = 1;
  PCHECK(write(stop_fd, &one, sizeof(one)) == sizeof(one));
  threads.dhcp.join();
  if (threads.tftp.joinable()) threads.tftp.join();
  close(stop_fd);
  close(done_fd);
  return rc;
}

}  // namespace pxeproxy
