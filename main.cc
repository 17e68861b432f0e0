// The composition root: flags -> Config -> the servers, until SIGINT/SIGTERM
// (SIGHUP reloads: service.h).
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "capture/diagnose.h"
#include "flags.h"
#include "glog/logging.h"
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
  if (config->tftp_enabled) {
    absl::StatusOr<std::unique_ptr<tftp::Server>> t =
        tftp::Server::Create(config->tftp);
    if (!t.ok()) {
      std::cerr << "pxeproxy: " << t.status().message() << "\n";
      return 1;
    }
    tftp_server = std::move(*t);
  }
  // Every socket is open: give up root. Keep this after the last server
  // (proxyDHCP, TFTP) is created and before any serves a packet.
  if (absl::Status s = privdrop::Apply(*drop); !s.ok()) {
    std::cerr << "pxeproxy: " << s.message() << "\n";
    return 1;
  }
  LOG(INFO) << "running as " << privdrop::Describe();
  LOG(INFO) << "pxeproxy " << PXEPROXY_VERSION << " ready; menu for iPXE: "
            << (config->responder.menu_url.empty()
                    ? "(embedded)"
                    : config->responder.menu_url);
  // The loops in their threads; this one handles signals and systemd.
  pxeproxy::Reloader reloader(std::vector<std::string>(argv + 1, argv + argc));
  int rc = pxeproxy::Serve({dhcp->get(), tftp_server.get()}, signal_fd,
                           &reloader, positional, *config);

  const proxydhcp::Counters& c = (*dhcp)->counters();
  std::string ignored;
  for (const auto& [reason, n] : c.ignored) {
    ignored += " " + reason + "=" + std::to_string(n);
  }
  LOG(INFO) << "stopping: received=" << c.received << " replied=" << c.replied
            << " send_errors=" << c.send_errors
            << " receive_errors=" << c.receive_errors
            << " kernel_drops=" << c.kernel_drops
            << " truncated=" << c.truncated << " ignored:" << ignored;
  close(signal_fd);
  return rc;
}
