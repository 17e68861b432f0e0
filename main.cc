// The composition root: flags -> Config -> the servers, until SIGINT/SIGTERM
// (SIGHUP reloads: service.h).
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/parse.h"
#include "capture/diagnose.h"
#include "check.h"
#include "flags.h"
#include "glog/logging.h"
#include "metrics/http.h"
#include "metrics/pxeproxy_metrics.h"
#include "privdrop.h"
#include "proxydhcp/server.h"
#include "reload.h"
#include "service.h"
#include "tftp/server.h"

namespace {

// SIGINT and SIGTERM arrive on a descriptor the loops poll: a clean end, no
// handler. Blocked here, before any thread starts, so every thread inherits it.
int StopSignalFd() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int stop_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  PCHECK(stop_fd >= 0) << "signalfd";
  return stop_fd;
}

// --diagnose: watch or read a capture and explain the boots; no server
// socket is opened. Ctrl-C (or SIGTERM) ends a live watch.
int RunDiagnose(const pxeproxy::Config& config) {
  int stop_fd = StopSignalFd();
  int rc = capture::RunDiagnose(config.diagnose, config.responder, stop_fd);
  close(stop_fd);
  return rc;
}

// The metrics and boot log hub the serving loops report to.
std::unique_ptr<metrics::Metrics> MakeMetrics(const pxeproxy::Config& c) {
  metrics::Metrics::Options o;
  o.version = PXEPROXY_VERSION;
  for (const auto& [arch, file] : c.responder.boot_files) {
    o.boot_files.insert(file);
  }
  for (const proxydhcp::MacRule& rule : c.responder.mac_rules) {
    if (rule.boot_file) o.boot_files.insert(*rule.boot_file);
  }
  o.boot_log_options.stall = std::chrono::seconds(c.metrics.boot_stall_seconds);
  auto m = std::make_unique<metrics::Metrics>(std::move(o));
  CHECK(m->status().ok()) << m->status();
  return m;
}

// The boot log's clock: stall lines once a second until `stop_fd` is
// readable.
void TickUntil(metrics::Metrics* m, int stop_fd) {
  pollfd p{stop_fd, POLLIN, 0};
  while (poll(&p, 1, 1000) <= 0) m->Tick();
}

// Flags, logging and the validated configuration.
absl::StatusOr<pxeproxy::Config> Configure(
    int argc, char** argv, std::vector<std::string>* positional) {
  pxeproxy::SetUpUsage();
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  positional->assign(args.begin() + 1, args.end());

  // Every log line's time stamp is local time: with TZ unset, glibc stats
  // /etc/localtime again for each one (a fifth of the CPU of a reply in a
  // boot storm, BENCHMARKS.md). Naming the same file reads it once.
  setenv("TZ", ":/etc/localtime", /*overwrite=*/0);
  pxeproxy::LoggingFlags log = pxeproxy::GetLoggingFlags();
  FLAGS_v = log.v;
  FLAGS_logtostderr = log.logtostderr;
  FLAGS_log_dir = log.log_dir;
  google::InitGoogleLogging(argv[0]);
  return pxeproxy::BuildConfig(*positional);
}

// Everything that serves, each opened while we are still root.
struct Daemon {
  std::unique_ptr<proxydhcp::Server> dhcp;
  std::unique_ptr<tftp::Server> tftp;  // null with --notftp
  std::unique_ptr<metrics::Metrics> metrics;
  std::unique_ptr<metrics::HttpExporter> http;  // null without an address
};

// Binds every socket; errors name what failed.
absl::StatusOr<Daemon> OpenServers(const pxeproxy::Config& config) {
  Daemon d;
  absl::StatusOr<std::unique_ptr<proxydhcp::Server>> dhcp =
      proxydhcp::Server::Create(config.interfaces, config.responder);
  if (!dhcp.ok()) return dhcp.status();
  d.dhcp = std::move(*dhcp);
  if (config.tftp_enabled) {
    tftp::Config tftp_config = config.tftp;
    // A client reaching TFTP feeds the adaptive UEFI strategy's memory.
    tftp_config.on_request = [dhcp = d.dhcp.get()](wire::Ipv4 ip) {
      dhcp->NoteTftpRequest(ip);
    };
    absl::StatusOr<std::unique_ptr<tftp::Server>> t =
        tftp::Server::Create(tftp_config);
    if (!t.ok()) return t.status();
    d.tftp = std::move(*t);
  }
  d.metrics = MakeMetrics(config);
  d.dhcp->set_metrics(d.metrics.get());
  if (d.tftp) d.tftp->set_metrics(d.metrics.get());
  if (config.metrics.http) {
    absl::StatusOr<std::unique_ptr<metrics::HttpExporter>> h =
        metrics::HttpExporter::Listen(config.metrics.ip, config.metrics.port,
                                      d.metrics.get());
    if (!h.ok()) return h.status();
    d.http = std::move(*h);
  }
  return d;
}

// Every socket is open: give up root, then start the HTTP thread (it must
// not keep root's capabilities).
absl::Status DropRootAndStart(const privdrop::Plan& drop, const Daemon& d,
                              const pxeproxy::Config& config) {
  if (absl::Status s = privdrop::Apply(drop); !s.ok()) return s;
  LOG(INFO) << "running as " << privdrop::Describe();
  if (d.http) {
    if (absl::Status s = d.http->Start(); !s.ok()) return s;
    LOG(INFO) << "metrics on http://" << wire::FormatIpv4(config.metrics.ip)
              << ":" << d.http->port() << "/metrics";
  }
  return absl::OkStatus();
}

// The loops until a stop signal, with the boot log's clock (stall lines)
// ticking beside them.
int ServeUntilStopped(Daemon& d, int signal_fd, pxeproxy::Reloader* reloader,
                      const std::vector<std::string>& positional,
                      const pxeproxy::Config& config) {
  int tick_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  PCHECK(tick_stop_fd >= 0) << "eventfd";
  std::thread tick_thread([&] { TickUntil(d.metrics.get(), tick_stop_fd); });
  // The loops in their threads; this one handles signals and systemd.
  int rc = pxeproxy::Serve({d.dhcp.get(), d.tftp.get()}, signal_fd, reloader,
                           positional, config);
  uint64_t one = 1;
  PCHECK(write(tick_stop_fd, &one, sizeof(one)) == sizeof(one));
  tick_thread.join();
  d.http.reset();
  close(tick_stop_fd);
  return rc;
}

void LogDhcpTotals(const proxydhcp::Counters& c) {
  std::string ignored;
  for (const auto& [reason, n] : c.ignored) {
    ignored += " " + reason + "=" + std::to_string(n);
  }
  LOG(INFO) << "stopping: received=" << c.received << " replied=" << c.replied
            << " send_errors=" << c.send_errors
            << " receive_errors=" << c.receive_errors
            << " kernel_drops=" << c.kernel_drops
            << " truncated=" << c.truncated
            << " uefi_strategy_switches=" << c.uefi_strategy_switches
            << " ignored:" << ignored;
}

int Fail(int rc, const absl::Status& s) {
  std::cerr << "pxeproxy: " << s.message() << "\n";
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  absl::StatusOr<pxeproxy::Config> config = Configure(argc, argv, &positional);
  if (!config.ok()) return Fail(2, config.status());
  if (config->diagnose.enabled) return RunDiagnose(*config);
  if (config->check) return pxeproxy::RunCheck(*config, std::cout) ? 1 : 0;
  // A bad --user is a configuration error, reported before anything is bound.
  absl::StatusOr<privdrop::Plan> drop =
      privdrop::Resolve(config->user, config->user_fallback);
  if (!drop.ok()) return Fail(2, drop.status());
  if (drop->fell_back) {
    LOG(WARNING) << "user " << config->user << " does not exist (the Debian "
                 << "package creates it); dropping root to " << drop->user
                 << " instead";
  }
  // SIGINT, SIGTERM and SIGHUP (reload), read by pxeproxy::Serve.
  int signal_fd = pxeproxy::ControlSignalFd();
  absl::StatusOr<Daemon> daemon = OpenServers(*config);
  if (!daemon.ok()) return Fail(1, daemon.status());
  // Keep this after the last server (proxyDHCP, TFTP) is created and before
  // any serves a packet.
  if (absl::Status s = DropRootAndStart(*drop, *daemon, *config); !s.ok()) {
    return Fail(1, s);
  }
  LOG(INFO) << "pxeproxy " << PXEPROXY_VERSION << " ready; menu for iPXE: "
            << (config->responder.menu_url.empty()
                    ? "(embedded)"
                    : config->responder.menu_url);
  pxeproxy::Reloader reloader(std::vector<std::string>(argv + 1, argv + argc));
  int rc =
      ServeUntilStopped(*daemon, signal_fd, &reloader, positional, *config);
  LogDhcpTotals(daemon->dhcp->counters());
  close(signal_fd);
  return rc;
}
