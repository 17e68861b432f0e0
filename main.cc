// The composition root: flags -> Config -> the servers, until SIGINT/SIGTERM.
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
#include "tftp/embedded_menu.h"
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

  int stop_fd = StopSignalFd();

  absl::StatusOr<std::unique_ptr<proxydhcp::Server>> dhcp =
      proxydhcp::Server::Create(config->interfaces, config->responder);
  if (!dhcp.ok()) {
    std::cerr << "pxeproxy: " << dhcp.status().message() << "\n";
    return 1;
  }
  // Without --menu_url, iPXE clients are sent to tftp://<us>/<menu name>.
  if (config->responder.menu_url.empty()) {
    config->tftp.virtual_files[config->responder.embedded_menu_name] =
        tftp::EmbeddedMenu(PXEPROXY_VERSION);
  }
  std::unique_ptr<tftp::Server> tftp_server;
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
  // TFTP runs in its own thread (signals stay blocked there: the mask is
  // inherited). The proxyDHCP loop owns the signalfd; when it returns, the
  // eventfd tells the TFTP loop to stop.
  int tftp_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  PCHECK(tftp_stop_fd >= 0) << "eventfd";
  std::thread tftp_thread;
  if (tftp_server) {
    tftp_thread = std::thread([&] { tftp_server->Run(tftp_stop_fd); });
  }
  std::thread tick_thread([&] { TickUntil(metrics.get(), tftp_stop_fd); });
  (*dhcp)->Run(stop_fd);
  uint64_t one = 1;
  PCHECK(write(tftp_stop_fd, &one, sizeof(one)) == sizeof(one));
  if (tftp_thread.joinable()) tftp_thread.join();
  tick_thread.join();
  http.reset();
  close(tftp_stop_fd);

  const proxydhcp::Counters& c = (*dhcp)->counters();
  std::string ignored;
  for (const auto& [reason, n] : c.ignored) {
    ignored += " " + reason + "=" + std::to_string(n);
  }
  LOG(INFO) << "stopping: received=" << c.received << " replied=" << c.replied
            << " send_errors=" << c.send_errors
            << " receive_errors=" << c.receive_errors
            << " kernel_drops=" << c.kernel_drops << " ignored:" << ignored;
  close(stop_fd);
  return 0;
}
