// SIGHUP: re-reading --flagfile (and so --mac_rules_file) into a new Config
// while the daemon runs (README.md, "Reloading"; man pxeproxy, SIGNALS).
//
// The pure part splits flag tokens and compares two sets of flag values; the
// Reloader applies a reload to Abseil's flag globals and calls BuildConfig,
// restoring every flag when the new configuration is refused.
#ifndef PXEPROXY_RELOAD_H_
#define PXEPROXY_RELOAD_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "flags.h"

namespace pxeproxy {

// Flag name -> value as text (CommandLineFlag::CurrentValue()).
using FlagValues = std::map<std::string, std::string>;
using FlagAssignments = std::vector<std::pair<std::string, std::string>>;

// Flag tokens as Abseil reads them, in order: --name=value, --name value
// (not for a bool), --name and --noname (bool: "true", "false"), one or two
// dashes; "--" ends the flags; other words are positional and skipped.
// --flagfile is returned like any flag, for the caller to expand.
absl::StatusOr<FlagAssignments> SplitFlagTokens(
    const std::vector<std::string>& tokens,
    const std::function<bool(const std::string&)>& is_bool);

// A flag file's text as tokens: one flag a line, blank lines and '#'
// comments skipped; anything else is an error naming origin:line.
absl::StatusOr<std::vector<std::string>> FlagfileTokens(
    const std::string& text, const std::string& origin);

// The flags whose change needs a restart: the sockets, the user, the TFTP
// root and logging are set up once at start.
bool NeedsRestart(const std::string& flag);

struct FlagDiff {
  std::vector<std::string> applied;       // changed, in effect at once
  std::vector<std::string> need_restart;  // changed, ignored until a restart
};
// What differs between the running flags and the reloaded ones (a flag
// missing on one side counts as changed).
FlagDiff DiffFlags(const FlagValues& running, const FlagValues& reloaded);

struct Reloaded {
  Config config;
  FlagDiff diff;
};

class Reloader {
 public:
  // `argv`: the command line without the program name, as given at start.
  explicit Reloader(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  // Every flag of pxeproxy back to its default, then the flag files and the
  // command line again (in their order), flags that need a restart kept at
  // their running value, then BuildConfig. On an error nothing changes.
  // Call from one thread only (the flags are global).
  absl::StatusOr<Reloaded> Reload(const std::vector<std::string>& positional);

 private:
  std::vector<std::string> argv_;
};

}  // namespace pxeproxy

#endif  // PXEPROXY_RELOAD_H_
