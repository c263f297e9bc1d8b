// Typed configuration: a YAML file (--config) overridden by environment variables.
//
// Every setting is a dotted key ("db.host") bound to a field of a plain struct. Its value comes
// from, in increasing precedence: the default, the YAML file (nested maps: `db: {host: x}`), the
// environment variable PORTUNUS_<KEY> with dots as underscores (PORTUNUS_DB_HOST, Portus's
// convention), and, for secrets, PORTUNUS_<KEY>_FILE naming a file that holds the value
// (Kubernetes-mounted Secrets). Values are validated once, at load time; the first problem is
// reported as one line naming the key and where the value came from, e.g.
//   db.port: must be between 1 and 65535 (got "70000" from PORTUNUS_DB_PORT)
//
// Each binary binds the common keys (common_config.h) plus its own section; keys of sections
// bound by other Portunus binaries are ignored, so one file serves every service, and any other
// unknown key is an error (a typo never silently falls back to a default).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace portunus {

// Looks up an environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

// Options of one bound key, set fluently: binder.Int("db.port", &c.port, 5432, "...").Range(1, 65535).
class ConfigKey {
 public:
  // Never printed by `config print`, may come from PORTUNUS_<KEY>_FILE.
  ConfigKey& Secret();
  // Loading fails when the final value is empty.
  ConfigKey& Required();
  // For Int/Bytes/Duration keys: inclusive bounds (durations in milliseconds).
  ConfigKey& Range(int64_t min, int64_t max);
  // Extra check on the parsed value; returns an error message or "" when valid.
  ConfigKey& Check(std::function<std::string()> check);

 private:
  friend class ConfigBinder;
  std::string key_;
  std::string type_;  // for documentation and error messages
  std::string help_;
  bool secret_ = false;
  bool required_ = false;
  std::optional<std::pair<int64_t, int64_t>> range_;
  std::function<std::string()> check_;
  // Parses text into the target; returns an error message or "".
  std::function<std::string(const std::string&)> set_;
  std::function<std::string(const std::vector<std::string>&)> set_list_;  // list keys only
  std::function<std::string()> get_;                                      // for printing
  std::function<int64_t()> numeric_;                                      // for Range
  std::string default_text_;
  std::string source_ = "default";
};

// Collects key bindings and loads values into them. Not thread-safe; use at startup only. The
// bound fields must outlive the binder.
class ConfigBinder {
 public:
  ConfigKey& String(std::string key, std::string* target, std::string default_value,
                    std::string help);
  // A string restricted to `allowed` values.
  ConfigKey& Enum(std::string key, std::string* target, std::string default_value,
                  std::vector<std::string> allowed, std::string help);
  ConfigKey& Int(std::string key, int* target, int default_value, std::string help);
  ConfigKey& Int64(std::string key, int64_t* target, int64_t default_value, std::string help);
  // Sizes: "1048576", "512KiB", "1MiB", "2GiB" (also KB/MB/GB as powers of 1000).
  ConfigKey& Bytes(std::string key, int64_t* target, int64_t default_value, std::string help);
  // true/false/yes/no/on/off/1/0.
  ConfigKey& Bool(std::string key, bool* target, bool default_value, std::string help);
  // Go-style durations: "250ms", "5s", "15m", "1h30m".
  ConfigKey& Duration(std::string key, absl::Duration* target, absl::Duration default_value,
                      std::string help);
  // A YAML sequence, or a comma-separated string (from the environment).
  ConfigKey& StringList(std::string key, std::vector<std::string>* target,
                        std::vector<std::string> default_value, std::string help);

  // Declares that this binary validates every key under top-level `section`: an unbound key
  // there is an error. Keys under sections nobody in this binary owns are ignored when the
  // section is in KnownConfigSections(), and are an error otherwise.
  void OwnSection(std::string section);

  // Sets defaults, then reads `yaml_path` (skipped when empty) and the environment.
  // kInvalidArgument with one line naming the key (or file position) on the first problem;
  // kNotFound when the file does not exist.
  absl::Status Load(const std::string& yaml_path, const EnvLookup& env = ProcessEnv());

  // The effective configuration as YAML, secrets shown as "<redacted>" (or "" when unset),
  // each value followed by a comment naming its source ("# from PORTUNUS_DB_HOST").
  std::string Render() const;

  // A Markdown table of every key: key, type, default, environment variable, description.
  std::string Reference() const;

  // The environment variable name for a key: "db.host" -> "PORTUNUS_DB_HOST".
  static std::string EnvName(const std::string& key);

 private:
  ConfigKey& Add(std::string key, std::string type, std::string help);
  absl::Status ApplyYaml(const std::string& path);
  absl::Status Validate(ConfigKey& k) const;

  std::vector<std::unique_ptr<ConfigKey>> keys_;
  std::map<std::string, ConfigKey*> by_key_;
  std::set<std::string> owned_sections_;
};

// Top-level sections of the Portunus configuration file, across all binaries.
const std::set<std::string>& KnownConfigSections();

}  // namespace portunus
