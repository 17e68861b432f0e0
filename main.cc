// The composition root: flags -> Config -> the servers, until SIGINT/SIGTERM.
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
#include "flags.h"
#include "glog/logging.h"
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
  // TFTP runs in its own thread (signals stay blocked there: the mask is
  // inherited). The proxyDHCP loop owns the signalfd; when it returns, the
  // eventfd tells the TFTP loop to stop.
  int tftp_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  PCHECK(tftp_stop_fd >= 0) << "eventfd";
  std::thread tftp_thread;
  if (tftp_server) {
    tftp_thread = std::thread([&] { tftp_server->Run(tftp_stop_fd); });
  }
  (*dhcp)->Run(stop_fd);
  uint64_t one = 1;
  PCHECK(write(tftp_stop_fd, &one, sizeof(one)) == sizeof(one));
  if (tftp_thread.joinable()) tftp_thread.join();
  close(tftp_stop_fd);

  const proxydhcp::Counters& c = (*dhcp)->counters();
  std::string ignored;
  for (const auto& [reason, n] : c.ignored) {
    ignored += " " + reason + "=" + std::to_string(n);
  }
  LOG(INFO) << "stopping: received=" << c.received << " replied=" << c.replied
            << " send_errors=" << c.send_errors
            << " receive_errors=" << c.receive_errors
            << " kernel_drops=" << c.kernel_drops
            << " uefi_strategy_switches=" << c.uefi_strategy_switches
            << " ignored:" << ignored;
  close(stop_fd);
  return 0;
}
