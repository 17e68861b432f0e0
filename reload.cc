#include "reload.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "wire/status_macros.h"

namespace pxeproxy {

absl::StatusOr<FlagAssignments> SplitFlagTokens(
    const std::vector<std::string>& tokens,
    const std::function<bool(const std::string&)>& is_bool) {
  FlagAssignments out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    absl::string_view t = tokens[i];
    if (t == "--") break;
    if (t.size() < 2 || t[0] != '-') continue;  // positional
    t.remove_prefix(t[1] == '-' ? 2 : 1);
    std::string name(t.substr(0, t.find('=')));
    const bool has_value = t.find('=') != absl::string_view::npos;
    std::string value(has_value ? t.substr(t.find('=') + 1) : "");
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", tokens[i], "' is not a flag"));
    }
    if (!has_value) {
      if (is_bool(name)) {
        value = "true";
      } else if (absl::StartsWith(name, "no") && is_bool(name.substr(2))) {
        name = name.substr(2);
        value = "false";
      } else if (i + 1 < tokens.size()) {
        value = tokens[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " is missing its value"));
      }
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FlagfileTokens(
    const std::string& text, const std::string& origin) {
  std::vector<std::string> tokens;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != '-' || line == "--") {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ":", line_no, ": '", line,
                       "' is not a flag (one --name=value a line)"));
    }
    tokens.emplace_back(line);
  }
  return tokens;
}

bool NeedsRestart(const std::string& flag) {
  // Sockets (interfaces are positional, so fixed), the TFTP server as
  // created at start (its root is opened once: transfers in flight read
  // from it), the user, logging, and the modes other than serving.
  static const std::set<std::string> kRestart = {"tftp",
                                                 "tftp_port",
                                                 "tftp_root",
                                                 "tftp_symlink_allow",
                                                 "tftp_single_port",
                                                 "tftp_listen_all",
                                                 "user",
                                                 "logtostderr",
                                                 "log_dir",
                                                 "diagnose",
                                                 "diagnose_seconds",
                                                 "diagnose_write",
                                                 "diagnose_format",
                                                 "metrics_address",
                                                 "check"};
  return kRestart.contains(flag);
}

FlagDiff DiffFlags(const FlagValues& running, const FlagValues& reloaded) {
  std::set<std::string> names;
  for (const auto& [name, v] : running) names.insert(name);
  for (const auto& [name, v] : reloaded) names.insert(name);
  FlagDiff diff;
  for (const std::string& name : names) {
    auto a = running.find(name);
    auto b = reloaded.find(name);
    if (a != running.end() && b != reloaded.end() && a->second == b->second) {
      continue;
    }
    (NeedsRestart(name) ? diff.need_restart : diff.applied).push_back(name);
  }
  return diff;
}

namespace {

// pxeproxy's own flags: those defined in flags.cc (not Abseil's --flagfile,
// --helpfull...).
std::map<std::string, absl::CommandLineFlag*> OwnFlags() {
  std::map<std::string, absl::CommandLineFlag*> own;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    std::string file = flag->Filename();
    if (file == "flags.cc" || absl::EndsWith(file, "/flags.cc")) {
      own[std::string(name)] = flag;
    }
  }
  return own;
}

FlagValues Values(const std::map<std::string, absl::CommandLineFlag*>& own) {
  FlagValues v;
  for (const auto& [name, flag] : own) v[name] = flag->CurrentValue();
  return v;
}

// Expands --flagfile (comma-separated, nested up to a depth) in order.
absl::Status Expand(const std::vector<std::string>& tokens, int depth,
                    FlagAssignments* out) {
  auto is_bool = [](const std::string& name) {
    absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
    return f != nullptr && f->IsOfType<bool>();
  };
  ASSIGN_OR_RETURN(FlagAssignments split, SplitFlagTokens(tokens, is_bool));
  for (auto& [name, value] : split) {
    if (name != "flagfile") {
      out->emplace_back(name, value);
      continue;
    }
    if (depth >= 8) {
      return absl::InvalidArgumentError(
          absl::StrCat("--flagfile='", value, "': nested too deep"));
    }
    for (absl::string_view path :
         absl::StrSplit(value, ',', absl::SkipEmpty())) {
      std::ifstream in{std::string(path)};
      if (!in) {
        return absl::InvalidArgumentError(
            absl::StrCat("--flagfile='", path, "': cannot be read"));
      }
      std::stringstream text;
      text << in.rdbuf();
      ASSIGN_OR_RETURN(std::vector<std::string> inner,
                       FlagfileTokens(text.str(), std::string(path)));
      RETURN_IF_ERROR(Expand(inner, depth + 1, out));
    }
  }
  return absl::OkStatus();
}

void SetAll(const std::map<std::string, absl::CommandLineFlag*>& own,
            const FlagValues& values) {
  std::string error;
  for (const auto& [name, flag] : own) {
    auto v = values.find(name);
    if (v != values.end()) flag->ParseFrom(v->second, &error);
  }
}

}  // namespace

absl::StatusOr<Reloaded> Reloader::Reload(
    const std::vector<std::string>& positional) {
  const std::map<std::string, absl::CommandLineFlag*> own = OwnFlags();
  const FlagValues running = Values(own);
  FlagAssignments assignments;
  RETURN_IF_ERROR(Expand(argv_, 0, &assignments));

  FlagValues defaults;
  for (const auto& [name, flag] : own) defaults[name] = flag->DefaultValue();
  SetAll(own, defaults);
  auto refuse = [&](absl::Status s) {
    SetAll(own, running);
    return s;
  };
  for (const auto& [name, value] : assignments) {
    auto it = own.find(name);
    if (it == own.end()) {
      // Abseil's own (--undefok, --fromenv...) did their part at start.
      if (absl::FindCommandLineFlag(name) != nullptr) continue;
      return refuse(
          absl::InvalidArgumentError(absl::StrCat("unknown flag --", name)));
    }
    std::string error;
    if (!it->second->ParseFrom(value, &error)) {
      return refuse(absl::InvalidArgumentError(
          absl::StrCat("--", name, "='", value, "': ", error)));
    }
  }
  Reloaded r;
  r.diff = DiffFlags(running, Values(own));
  // What needs a restart keeps its running value, so that the Config below
  // is the one that runs, validated as a whole.
  std::string error;
  for (const std::string& name : r.diff.need_restart) {
    auto it = own.find(name);
    auto v = running.find(name);
    if (it != own.end() && v != running.end()) {
      it->second->ParseFrom(v->second, &error);
    }
  }
  absl::StatusOr<Config> config = BuildConfig(positional);
  if (!config.ok()) return refuse(config.status());
  r.config = std::move(*config);
  return r;
}

}  // namespace pxeproxy
