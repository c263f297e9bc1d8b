#include "tests/harness/skopeo.h"

#include "absl/strings/str_cat.h"

namespace portunus::harness {

Skopeo::Skopeo() : dir_("skopeo"), auth_file_(dir_.Sub("auth.json")) {
  MakeDirs(dir_.Sub("tmp")).IgnoreError();  // skopeo reports a missing tmpdir itself
  // An empty auth file: skopeo then never reads the machine's credentials.
  WriteFile(auth_file_, "{\"auths\":{}}\n", 0600).IgnoreError();
}

absl::StatusOr<CommandResult> Skopeo::Run(std::vector<std::string> args,
                                          absl::Duration timeout) {
  Process::Options o;
  o.name = "skopeo";
  o.binary = "/usr/bin/skopeo";
  o.args = std::move(args);
  // containers/image keeps root's blob-info cache in /var/lib/containers/cache with no flag to
  // move it; as a "rootless" user (which _CONTAINERS_ROOTLESS_UID declares) it lives under
  // $XDG_DATA_HOME instead, which is ours.
  o.env = {{"_CONTAINERS_ROOTLESS_UID", "1000"},
           {"XDG_DATA_HOME", dir_.Sub("data")},
           {"XDG_RUNTIME_DIR", dir_.Sub("run")},
           {"XDG_CONFIG_HOME", dir_.Sub("config")},
           {"REGISTRY_AUTH_FILE", auth_file_},
           {"TMPDIR", dir_.Sub("tmp")}};
  o.unset_env_prefixes = {"REGISTRY_AUTH_FILE"};
  return RunCommand(o, timeout);
}

absl::StatusOr<CommandResult> Skopeo::Copy(const std::string& src, const std::string& dest,
                                           const CopyOptions& options) {
  std::vector<std::string> args = {"copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                                   "--authfile", auth_file_};
  if (options.src_creds) args.insert(args.end(), {"--src-creds", options.src_creds->Flag()});
  if (options.dest_creds) args.insert(args.end(), {"--dest-creds", options.dest_creds->Flag()});
  if (!options.format.empty()) args.insert(args.end(), {"--format", options.format});
  if (options.all) args.push_back("--all");
  args.insert(args.end(), options.extra.begin(), options.extra.end());
  args.push_back(src);
  args.push_back(dest);
  return Run(std::move(args));
}

absl::StatusOr<CommandResult> Skopeo::Inspect(const std::string& ref,
                                              const std::optional<Credentials>& creds, bool raw) {
  std::vector<std::string> args = {"inspect", "--tls-verify=false", "--authfile", auth_file_};
  if (raw) args.push_back("--raw");
  if (creds) args.insert(args.end(), {"--creds", creds->Flag()});
  args.push_back(ref);
  return Run(std::move(args));
}

absl::StatusOr<CommandResult> Skopeo::ListTags(const std::string& ref,
                                               const std::optional<Credentials>& creds) {
  std::vector<std::string> args = {"list-tags", "--tls-verify=false", "--authfile", auth_file_};
  if (creds) args.insert(args.end(), {"--creds", creds->Flag()});
  args.push_back(ref);
  return Run(std::move(args));
}

absl::StatusOr<CommandResult> Skopeo::Delete(const std::string& ref,
                                             const std::optional<Credentials>& creds) {
  std::vector<std::string> args = {"delete", "--tls-verify=false", "--authfile", auth_file_};
  if (creds) args.insert(args.end(), {"--creds", creds->Flag()});
  args.push_back(ref);
  return Run(std::move(args));
}

absl::StatusOr<CommandResult> Skopeo::Login(const std::string& host, const Credentials& creds) {
  return Run({"login", "--tls-verify=false", "--authfile", auth_file_, "-u", creds.user, "-p",
              creds.password, host});
}

absl::StatusOr<CommandResult> Skopeo::Logout(const std::string& host) {
  return Run({"logout", "--authfile", auth_file_, host});
}

absl::Status Skopeo::ClearBlobInfoCache() { return RemoveAll(dir_.Sub("data")); }

}  // namespace portunus::harness
