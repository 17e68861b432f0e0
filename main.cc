// The composition root: flags -> Config -> the servers, until SIGINT/SIGTERM.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "flags.h"
#include "glog/logging.h"
#include "privdrop.h"
#include "proxydhcp/server.h"

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
  // A bad --user is a configuration error, reported before anything is bound.
  absl::StatusOr<privdrop::Plan> drop = privdrop::Resolve(config->user);
  if (!drop.ok()) {
    std::cerr << "pxeproxy: " << drop.status().message() << "\n";
    return 2;
  }

  // Signals arrive on a descriptor the loops poll: a clean end, no handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int stop_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  PCHECK(stop_fd >= 0) << "signalfd";

  absl::StatusOr<std::unique_ptr<proxydhcp::Server>> dhcp =
      proxydhcp::Server::Create(config->interfaces, config->responder);
  if (!dhcp.ok()) {
    std::cerr << "pxeproxy: " << dhcp.status().message() << "\n";
    return 1;
  }
  // Every socket is open: give up root. Keep this after the last server
  // (proxyDHCP, TFTP) is created and before any serves a packet.
  if (absl::Status s = privdrop::Apply(*drop); !s.ok()) {
    std::cerr << "pxeproxy: " << s.message() << "\n";
    return 1;
  }
  LOG(INFO) << "running as " << privdrop::Describe();
  LOG(INFO) << "pxeproxy " << PXEPROXY_VERSION << " ready; menu for iPXE: "
            << (config->responder.menu_url.empty() ? "(embedded)"
                                                   : config->responder.menu_url);
  (*dhcp)->Run(stop_fd);

  const proxydhcp::Counters& c = (*dhcp)->counters();
  std::string ignored;
  for (const auto& [reason, n] : c.ignored) {
    ignored += " " + reason + "=" + std::to_string(n);
  }
  LOG(INFO) << "stopping: received=" << c.received << " replied=" << c.replied
            << " send_errors=" << c.send_errors << " ignored:" << ignored;
  close(stop_fd);
  return 0;
}
