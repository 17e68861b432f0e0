// The TFTP server's configuration: the in-memory files, the open-file limit
// its sessions need, and a reload taken between two rounds of the loop.
#include <sys/resource.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "tftp/server.h"

namespace tftp {

// Each transfer owns a socket; make sure max_sessions of them fit.
void Server::RaiseFileLimit(int max_sessions) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  // A transfer of a file too large to cache also holds the file open.
  rlim_t want = 2 * static_cast<rlim_t>(max_sessions) + 64;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(want, rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    LOG(WARNING) << "tftp: open-file limit " << rl.rlim_cur
                 << " is below 2 x --tftp_max_sessions + 64; transfers past it "
                    "are refused";
  }
}

absl::StatusOr<Server::VirtualFiles> Server::LoadVirtualFiles(
    const Config& config) {
  VirtualFiles files;
  for (const auto& [name, text] : config.virtual_files) {
    absl::StatusOr<std::string> relative = NormalizeName(name);
    if (!relative.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "virtual file '", name, "': ", relative.status().message()));
    }
    files[*relative] = MakeFileData(text);
  }
  return files;
}

void Server::Reconfigure(const Config& config) {
  std::lock_guard<std::mutex> lock(pending_mu_);
  pending_ = std::make_unique<Config>(config);
  has_pending_.store(true, std::memory_order_release);
}

void Server::TakeConfig() {
  if (!has_pending_.load(std::memory_order_acquire)) return;
  std::unique_ptr<Config> next;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    has_pending_.store(false, std::memory_order_relaxed);
    next = std::move(pending_);
  }
  if (!next) return;
  absl::StatusOr<VirtualFiles> files = LoadVirtualFiles(*next);
  if (!files.ok()) {
    LOG(ERROR) << "tftp: reload: " << files.status().message()
               << "; keeping the running configuration";
    return;
  }
  virtual_ = std::move(*files);
  config_.max_blksize = next->max_blksize;
  config_.max_windowsize = next->max_windowsize;
  config_.max_sessions = next->max_sessions;
  config_.max_sessions_per_host = next->max_sessions_per_host;
  config_.virtual_files = next->virtual_files;
  RaiseFileLimit(config_.max_sessions);
}

}  // namespace tftp
