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
  capture::DiagnoseOptions options;
  options.target = config.diagnose.target;
  options.seconds = config.diagnose.seconds;
  options.write_file = config.diagnose.write_file;
  options.json = config.diagnose.json;
  options.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == nullptr;
  int rc = capture::RunDiagnose(options, config.responder, stop_fd);
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

}  // namespace

int main(int argc, char** argv) {
  pxeproxy::SetUpUsage();
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> positional(args.begin() + 1, args.end());

  // Every log line's time stamp is local time: with TZ unset, glibc stats
  // /etc/localtime again for each one (a fifth of the CPU of a reply in a
  // boot storm, BENCHMARKS.md). Naming the same file reads it once.
  setenv("TZ", ":/etc/localtime", /*overwrite=*/0);
  pxeproxy::LoggingFlags log = pxeproxy::GetLoggingFlags();
  FLAGS_v = log.v;
  FLAGS_logtostderr = log.logtostderr;
  FLAGS_log_dir = log.log_dir;
  google::InitGoogleLogging(argv[0]);

  absl::StatusOr<pxeproxy::Config> config = pxeproxy::BuildConfig(positional);
  if (!config.ok()) {
    std::cerr << "pxeproxy: " << config.status().message() << "\n";
    return 2;
  }
  if (config->diagnose.enabled) return RunDiagnose(*config);
  if (config->check) return pxeproxy::RunCheck(*config, std::cout) ? 1 : 0;
  // A bad --user is a configuration error, reported before anything is bound.
  absl::StatusOr<privdrop::Plan> drop =
      privdrop::Resolve(config->user, config->user_fallback);
  if (!drop.ok()) {
    std::cerr << "pxeproxy: " << drop.status().message() << "\n";
    return 2;
  }
  if (drop->fell_back) {
    LOG(WARNING) << "user " << config->user << " does not exist (the Debian "
                 << "package creates it); dropping root to " << drop->user
                 << " instead";
  }

  // SIGINT, SIGTERM and SIGHUP (reload), read by pxeproxy::Serve.
  int signal_fd = pxeproxy::ControlSignalFd();

  absl::StatusOr<std::unique_ptr<proxydhcp::Server>> dhcp =
      proxydhcp::Server::Create(config->interfaces, config->responder);
  if (!dhcp.ok()) {
    std::cerr << "pxeproxy: " << dhcp.status().message() << "\n";
    return 1;
  }
  pxeproxy::AddEmbeddedMenu(&*config);
  std::unique_ptr<tftp::Server> tftp_server;
  // A client reaching TFTP feeds the adaptive UEFI strategy's memory.
  config->tftp.on_request = [d = dhcp->get()](wire::Ipv4 ip) {
    d->NoteTftpRequest(ip);
  };
  if (config->tftp_enabled) {
    absl::StatusOr<std::unique_ptr<tftp::Server>> t =
        tftp::Server::Create(config->tftp);
    if (!t.ok()) {
      std::cerr << "pxeproxy: " << t.status().message() << "\n";
      return 1;
    }
    tftp_server = std::move(*t);
  }
  std::unique_ptr<metrics::Metrics> metrics = MakeMetrics(*config);
  (*dhcp)->set_metrics(metrics.get());
  if (tftp_server) tftp_server->set_metrics(metrics.get());
  std::unique_ptr<metrics::HttpExporter> http;
  if (config->metrics.http) {
    absl::StatusOr<std::unique_ptr<metrics::HttpExporter>> h =
        metrics::HttpExporter::Listen(config->metrics.ip, config->metrics.port,
                                      metrics.get());
    if (!h.ok()) {
      std::cerr << "pxeproxy: " << h.status().message() << "\n";
      return 1;
    }
    http = std::move(*h);
  }
  // Every socket is open: give up root. Keep this after the last server
  // (proxyDHCP, TFTP) is created and before any serves a packet.
  if (absl::Status s = privdrop::Apply(*drop); !s.ok()) {
    std::cerr << "pxeproxy: " << s.message() << "\n";
    return 1;
  }
  LOG(INFO) << "running as " << privdrop::Describe();
  // After the drop: the HTTP thread must not keep root's capabilities.
  if (http) {
    if (absl::Status s = http->Start(); !s.ok()) {
      std::cerr << "pxeproxy: " << s.message() << "\n";
      return 1;
    }
    LOG(INFO) << "metrics on http://" << wire::FormatIpv4(config->metrics.ip)
              << ":" << http->port() << "/metrics";
  }
  LOG(INFO) << "pxeproxy " << PXEPROXY_VERSION << " ready; menu for iPXE: "
            << (config->responder.menu_url.empty()
                    ? "(embedded)"
                    : config->responder.menu_url);
  // The boot log's clock (stall lines), until the loops have ended.
  int tick_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  PCHECK(tick_stop_fd >= 0) << "eventfd";
  std::thread tick_thread([&] { TickUntil(metrics.get(), tick_stop_fd); });
  // The loops in their threads; this one handles signals and systemd.
  pxeproxy::Reloader reloader(std::vector<std::string>(argv + 1, argv + argc));
  int rc = pxeproxy::Serve({dhcp->get(), tftp_server.get()}, signal_fd,
                           &reloader, positional, *config);
  uint64_t one = 1;
  PCHECK(write(tick_stop_fd, &one, sizeof(one)) == sizeof(one));
  tick_thread.join();
  http.reset();
  close(tick_stop_fd);

  const proxydhcp::Counters& c = (*dhcp)->counters();
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
  close(signal_fd);
  return rc;
}
