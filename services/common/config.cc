#include "services/common/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/log.h"
#include "yaml-cpp/yaml.h"

namespace portunus {
namespace {

std::string Quote(const std::string& s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

bool ParseBoolText(absl::string_view text, bool* out) {
  const std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t == "true" || t == "yes" || t == "on" || t == "1") {
    *out = true;
    return true;
  }
  if (t == "false" || t == "no" || t == "off" || t == "0") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseBytesText(absl::string_view text, int64_t* out) {
  std::string t(absl::StripAsciiWhitespace(text));
  struct Unit {
    const char* suffix;
    int64_t mult;
  };
  static const Unit kUnits[] = {{"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
                                {"KB", 1000},       {"MB", 1000000},    {"GB", 1000000000},
                                {"B", 1}};
  int64_t mult = 1;
  for (const Unit& u : kUnits) {
    if (absl::EndsWith(t, u.suffix)) {
      mult = u.mult;
      t = std::string(absl::StripAsciiWhitespace(t.substr(0, t.size() - strlen(u.suffix))));
      break;
    }
  }
  int64_t v;
  if (!absl::SimpleAtoi(t, &v) || v < 0) return false;
  if (v > INT64_MAX / mult) return false;
  *out = v * mult;
  return true;
}

std::string FormatBytes(int64_t v) {
  if (v > 0 && v % (1LL << 30) == 0) return absl::StrCat(v >> 30, "GiB");
  if (v > 0 && v % (1LL << 20) == 0) return absl::StrCat(v >> 20, "MiB");
  if (v > 0 && v % (1LL << 10) == 0) return absl::StrCat(v >> 10, "KiB");
  return absl::StrCat(v);
}

std::string FormatDurationText(absl::Duration d) { return absl::FormatDuration(d); }

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

ConfigKey& ConfigKey::Secret() {
  secret_ = true;
  return *this;
}
ConfigKey& ConfigKey::Required() {
  required_ = true;
  return *this;
}
ConfigKey& ConfigKey::Range(int64_t min, int64_t max) {
  range_ = std::make_pair(min, max);
  return *this;
}
ConfigKey& ConfigKey::Check(std::function<std::string()> check) {
  check_ = std::move(check);
  return *this;
}

std::string ConfigBinder::EnvName(const std::string& key) {
  std::string name = "PORTUNUS_";
  for (char c : key) name.push_back(c == '.' || c == '-' ? '_' : absl::ascii_toupper(c));
  return name;
}

ConfigKey& ConfigBinder::Add(std::string key, std::string type, std::string help) {
  auto k = std::make_unique<ConfigKey>();
  k->key_ = key;
  k->type_ = std::move(type);
  k->help_ = std::move(help);
  ConfigKey* raw = k.get();
  keys_.push_back(std::move(k));
  // A key bound twice (common + service) must agree; the last binding wins for its target.
  by_key_[key] = raw;
  return *raw;
}

ConfigKey& ConfigBinder::String(std::string key, std::string* target, std::string default_value,
                                std::string help) {
  ConfigKey& k = Add(std::move(key), "string", std::move(help));
  *target = default_value;
  k.default_text_ = default_value;
  k.set_ = [target](const std::string& v) {
    *target = v;
    return std::string();
  };
  k.get_ = [target] { return *target; };
  return k;
}

ConfigKey& ConfigBinder::Enum(std::string key, std::string* target, std::string default_value,
                              std::vector<std::string> allowed, std::string help) {
  const std::string type = absl::StrCat("one of: ", absl::StrJoin(allowed, ", "));
  ConfigKey& k = Add(std::move(key), type, std::move(help));
  *target = default_value;
  k.default_text_ = default_value;
  k.set_ = [target, allowed](const std::string& v) {
    for (const std::string& a : allowed) {
      if (v == a) {
        *target = v;
        return std::string();
      }
    }
    return absl::StrCat("must be one of ", absl::StrJoin(allowed, ", "));
  };
  k.get_ = [target] { return *target; };
  return k;
}

ConfigKey& ConfigBinder::Int(std::string key, int* target, int default_value, std::string help) {
  ConfigKey& k = Add(std::move(key), "integer", std::move(help));
  *target = default_value;
  k.default_text_ = absl::StrCat(default_value);
  k.set_ = [target](const std::string& v) {
    int parsed;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &parsed)) return std::string("must be an integer");
    *target = parsed;
    return std::string();
  };
  k.get_ = [target] { return absl::StrCat(*target); };
  k.numeric_ = [target] { return static_cast<int64_t>(*target); };
  return k;
}

ConfigKey& ConfigBinder::Int64(std::string key, int64_t* target, int64_t default_value,
                               std::string help) {
  ConfigKey& k = Add(std::move(key), "integer", std::move(help));
  *target = default_value;
  k.default_text_ = absl::StrCat(default_value);
  k.set_ = [target](const std::string& v) {
    int64_t parsed;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &parsed)) return std::string("must be an integer");
    *target = parsed;
    return std::string();
  };
  k.get_ = [target] { return absl::StrCat(*target); };
  k.numeric_ = [target] { return *target; };
  return k;
}

ConfigKey& ConfigBinder::Bytes(std::string key, int64_t* target, int64_t default_value,
                               std::string help) {
  ConfigKey& k = Add(std::move(key), "size", std::move(help));
  *target = default_value;
  k.default_text_ = FormatBytes(default_value);
  k.set_ = [target](const std::string& v) {
    int64_t parsed;
    if (!ParseBytesText(v, &parsed)) {
      return std::string("must be a size such as 1048576, 512KiB or 1MiB");
    }
    *target = parsed;
    return std::string();
  };
  k.get_ = [target] { return FormatBytes(*target); };
  k.numeric_ = [target] { return *target; };
  return k;
}

ConfigKey& ConfigBinder::Bool(std::string key, bool* target, bool default_value, std::string help) {
  ConfigKey& k = Add(std::move(key), "boolean", std::move(help));
  *target = default_value;
  k.default_text_ = default_value ? "true" : "false";
  k.set_ = [target](const std::string& v) {
    bool parsed;
    if (!ParseBoolText(v, &parsed)) return std::string("must be true or false");
    *target = parsed;
    return std::string();
  };
  k.get_ = [target] { return std::string(*target ? "true" : "false"); };
  return k;
}

ConfigKey& ConfigBinder::Duration(std::string key, absl::Duration* target,
                                  absl::Duration default_value, std::string help) {
  ConfigKey& k = Add(std::move(key), "duration", std::move(help));
  *target = default_value;
  k.default_text_ = FormatDurationText(default_value);
  k.set_ = [target](const std::string& v) {
    absl::Duration parsed;
    const std::string t(absl::StripAsciiWhitespace(v));
    if (t == "0") {
      *target = absl::ZeroDuration();
      return std::string();
    }
    if (!absl::ParseDuration(t, &parsed) || parsed == absl::InfiniteDuration() ||
        parsed == -absl::InfiniteDuration() || parsed < absl::ZeroDuration()) {
      return std::string("must be a duration such as 250ms, 5s, 15m or 1h");
    }
    *target = parsed;
    return std::string();
  };
  k.get_ = [target] { return FormatDurationText(*target); };
  k.numeric_ = [target] { return absl::ToInt64Milliseconds(*target); };
  return k;
}

ConfigKey& ConfigBinder::StringList(std::string key, std::vector<std::string>* target,
                                    std::vector<std::string> default_value, std::string help) {
  ConfigKey& k = Add(std::move(key), "list of strings", std::move(help));
  *target = default_value;
  k.default_text_ = absl::StrJoin(default_value, ",");
  k.set_ = [target](const std::string& v) {
    target->clear();
    for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      target->emplace_back(absl::StripAsciiWhitespace(part));
    }
    return std::string();
  };
  k.set_list_ = [target](const std::vector<std::string>& v) {
    *target = v;
    return std::string();
  };
  k.get_ = [target] { return absl::StrJoin(*target, ","); };
  return k;
}

void ConfigBinder::OwnSection(std::string section) { owned_sections_.insert(std::move(section)); }

absl::Status ConfigBinder::ApplyYaml(const std::string& path) {
  {
    std::ifstream probe(path);
    if (!probe.good()) {
      return absl::NotFoundError(absl::StrCat("config file ", path, " cannot be read"));
    }
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": ", e.msg));
  }
  if (root.IsNull()) return absl::OkStatus();  // an empty file is valid: all defaults
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the top level must be a mapping"));
  }
  // Walk the tree; `prefix` is the dotted path of `node`.
  std::function<absl::Status(const YAML::Node&, const std::string&)> walk =
      [&](const YAML::Node& node, const std::string& prefix) -> absl::Status {
    auto it = by_key_.find(prefix);
    const std::string where = absl::StrCat(path, ":", node.Mark().line + 1);
    if (it != by_key_.end()) {
      ConfigKey& k = *it->second;
      if (node.IsNull()) return absl::OkStatus();
      std::string err;
      if (node.IsSequence()) {
        if (!k.set_list_) {
          return absl::InvalidArgumentError(
              absl::StrCat(prefix, ": must be a single value, not a list (", where, ")"));
        }
        std::vector<std::string> items;
        for (const YAML::Node& item : node) {
          if (!item.IsScalar()) {
            return absl::InvalidArgumentError(
                absl::StrCat(prefix, ": list items must be strings (", where, ")"));
          }
          items.push_back(item.Scalar());
        }
        err = k.set_list_(items);
      } else if (node.IsScalar()) {
        err = k.set_(node.Scalar());
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(prefix, ": must be a single value, not a mapping (", where, ")"));
      }
      if (!err.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            prefix, ": ", err, " (got ", k.secret_ ? "<redacted>" : Quote(node.Scalar()),
            " from ", where, ")"));
      }
      k.source_ = where;
      return absl::OkStatus();
    }
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": keys must be strings"));
        }
        const std::string child =
            prefix.empty() ? kv.first.Scalar() : absl::StrCat(prefix, ".", kv.first.Scalar());
        { absl::Status s = walk(kv.second, child); if (!s.ok()) return s; }
      }
      return absl::OkStatus();
    }
    // A leaf nobody in this binary binds.
    const std::string section = prefix.substr(0, prefix.find('.'));
    if (owned_sections_.count(section) == 0 && KnownConfigSections().count(section) != 0) {
      return absl::OkStatus();  // another Portunus service's setting
    }
    if (KnownConfigSections().count(section) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, ": unknown section \"", section, "\" (", where, ")"));
    }
    return absl::InvalidArgumentError(absl::StrCat(prefix, ": unknown key (", where, ")"));
  };
  return walk(root, "");
}

absl::Status ConfigBinder::Validate(ConfigKey& k) const {
  const auto fail = [&k](const std::string& problem) {
    return absl::InvalidArgumentError(absl::StrCat(
        k.key_, ": ", problem, " (got ", k.secret_ ? "<redacted>" : Quote(k.get_()), " from ",
        k.source_, ")"));
  };
  if (k.required_ && k.get_().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(k.key_, ": is required (set it in the file or ",
                                                   EnvName(k.key_), ")"));
  }
  if (k.range_ && k.numeric_) {
    const int64_t v = k.numeric_();
    if (v < k.range_->first || v > k.range_->second) {
      if (k.type_ == "duration") {
        return fail(absl::StrCat("must be between ",
                                 FormatDurationText(absl::Milliseconds(k.range_->first)), " and ",
                                 FormatDurationText(absl::Milliseconds(k.range_->second))));
      }
      return fail(absl::StrCat("must be between ", k.range_->first, " and ", k.range_->second));
    }
  }
  if (k.check_) {
    const std::string problem = k.check_();
    if (!problem.empty()) return fail(problem);
  }
  return absl::OkStatus();
}

absl::Status ConfigBinder::Load(const std::string& yaml_path, const EnvLookup& env) {
  if (!yaml_path.empty()) {
    absl::Status s = ApplyYaml(yaml_path);
    if (!s.ok()) return s;
  }
  for (const auto& [key, k] : by_key_) {
    const std::string name = EnvName(key);
    std::optional<std::string> value = env(name);
    std::string source = name;
    if (k->secret_) {
      std::optional<std::string> file = env(name + "_FILE");
      if (file.has_value()) {
        if (value.has_value()) {
          return absl::InvalidArgumentError(
              absl::StrCat(key, ": both ", name, " and ", name, "_FILE are set; use one"));
        }
        std::ifstream in(*file, std::ios::binary);
        if (!in.good()) {
          return absl::InvalidArgumentError(
              absl::StrCat(key, ": cannot read ", *file, " (from ", name, "_FILE)"));
        }
        std::stringstream ss;
        ss << in.rdbuf();
        std::string content = ss.str();
        while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
          content.pop_back();
        }
        value = content;
        source = name + "_FILE";
      }
    }
    if (!value.has_value()) continue;
    const std::string err = k->set_(*value);
    if (!err.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          key, ": ", err, " (got ", k->secret_ ? "<redacted>" : Quote(*value), " from ", source,
          ")"));
    }
    k->source_ = source;
  }
  for (const auto& [key, k] : by_key_) {
    absl::Status s = Validate(*k);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string ConfigBinder::Render() const {
  std::string out;
  std::vector<std::string> open;  // currently open sections
  for (const auto& [key, k] : by_key_) {
    std::vector<std::string> parts = absl::StrSplit(key, '.');
    size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) {
      ++common;
    }
    open.resize(common);
    for (size_t i = common; i + 1 < parts.size(); ++i) {
      absl::StrAppend(&out, std::string(2 * i, ' '), parts[i], ":\n");
      open.push_back(parts[i]);
    }
    std::string value;
    if (k->secret_) {
      value = k->get_().empty() ? "\"\"" : "\"<redacted>\"";
    } else if (k->set_list_) {
      std::vector<std::string> items = absl::StrSplit(k->get_(), ',', absl::SkipEmpty());
      std::vector<std::string> quoted;
      for (const std::string& i : items) quoted.push_back(Quote(i));
      value = absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
    } else if (k->type_ == "string" || k->type_.rfind("one of", 0) == 0 || k->type_ == "duration" ||
               k->type_ == "size") {
      value = Quote(k->get_());
    } else {
      value = k->get_();
    }
    absl::StrAppend(&out, std::string(2 * (parts.size() - 1), ' '), parts.back(), ": ", value,
                    "  # ", k->source_, "\n");
  }
  return out;
}

std::string ConfigBinder::Reference() const {
  std::string out = "| key | type | default | environment | description |\n|---|---|---|---|---|\n";
  for (const auto& [key, k] : by_key_) {
    std::string env = EnvName(key);
    if (k->secret_) absl::StrAppend(&env, " (or ", EnvName(key), "_FILE)");
    absl::StrAppend(&out, "| `", key, "` | ", k->type_, " | ",
                    k->default_text_.empty() ? "" : absl::StrCat("`", k->default_text_, "`"),
                    " | `", env, "` | ", k->help_, k->required_ ? " Required." : "", " |\n");
  }
  return out;
}

const std::set<std::string>& KnownConfigSections() {
  static const auto* const kSections = new std::set<std::string>{
      "db",      "log",     "internal", "registry", "auth",     "catalog",
      "scanner", "health",  "gateway",  "delete",   "user_permission", "anonymous_browsing",
      "security"};
  return *kSections;
}

}  // namespace portunus
