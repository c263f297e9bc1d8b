// portunusctl keys generate|rotate|list|bundle|retire: local administration of the registry
// token signing keys (services/auth/key_directory.h). The auth service re-reads the directory
// on its own (auth.token.keys_reload_interval), so none of these needs a restart of Portunus.
//
// Rotation without downtime:
//   portunusctl keys generate            # a new key, staged: trusted but not signing yet
//   portunusctl keys bundle > bundle.crt # give the registry both certificates, reload it
//   portunusctl keys rotate              # the staged key signs; the old one stays trusted
//   ... once tokens of the old key have expired: portunusctl keys retire OLD_NAME
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "services/auth/key_directory.h"
#include "services/auth/key_ring.h"
#include "services/auth/signing_key.h"
#include "services/auth/token_config.h"
#include "services/common/config.h"

namespace portunus::cli {
namespace {

using auth::JwtAlgorithm;
using auth::KeyDirectory;

constexpr char kDirHelp[] = "[--dir DIR]";

// The key directory: --dir, else auth.token.keys_dir from --config / PORTUNUS_CONFIG and the
// environment.
absl::StatusOr<std::string> KeysDir(const CliContext& ctx, const Args& args,
                                    auth::TokenConfig* config) {
  ConfigBinder binder;
  auth::BindTokenConfig(&binder, config);
  absl::Status s = binder.Load(ctx.config_path);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("config: ", s.message()));
  if (args.Has("--dir")) config->keys_dir = args.Get("--dir");
  if (config->keys_dir.empty()) return absl::InvalidArgumentError("--dir must not be empty");
  return config->keys_dir;
}

struct GenerateFlags {
  JwtAlgorithm algorithm = JwtAlgorithm::kRS256;
  int bits = 2048;
  int days = 5 * 365;
};

absl::StatusOr<GenerateFlags> ParseGenerateFlags(const Args& args) {
  GenerateFlags f;
  if (args.Has("--algorithm")) {
    absl::StatusOr<JwtAlgorithm> a = auth::ParseJwtAlgorithm(args.Get("--algorithm"));
    if (!a.ok()) return a.status();
    f.algorithm = *a;
  }
  if (args.Has("--bits") && (!absl::SimpleAtoi(args.Get("--bits"), &f.bits) || f.bits < 2048 ||
                             f.bits > 8192)) {
    return absl::InvalidArgumentError("--bits must be a number between 2048 and 8192");
  }
  if (args.Has("--days") &&
      (!absl::SimpleAtoi(args.Get("--days"), &f.days) || f.days < 1 || f.days > 36500)) {
    return absl::InvalidArgumentError("--days must be a number between 1 and 36500");
  }
  return f;
}

absl::StatusOr<std::string> GenerateInto(KeyDirectory& dir, const GenerateFlags& f) {
  const absl::Time now = absl::Now();
  absl::StatusOr<auth::GeneratedKeyPem> pem = auth::GenerateSigningKey(
      f.algorithm, f.bits, absl::Hours(24) * f.days, "Portunus registry token signer", now);
  if (!pem.ok()) return pem.status();
  return dir.Add(*pem, f.algorithm, now);
}

// Loads every key of the directory for display (algorithm from the key type).
absl::StatusOr<std::vector<std::shared_ptr<const auth::SigningKey>>> LoadAll(
    const KeyDirectory& dir, const auth::TokenConfig& config) {
  absl::StatusOr<std::vector<auth::KeyFiles>> files = dir.List();
  if (!files.ok()) return files.status();
  auth::SigningKeyOptions options;
  absl::StatusOr<auth::KidFormat> kid = auth::ParseKidFormat(config.kid_format);
  if (kid.ok()) options.kid_format = *kid;
  std::vector<std::shared_ptr<const auth::SigningKey>> keys;
  for (const auth::KeyFiles& f : *files) {
    absl::StatusOr<std::string> key_pem = KeyDirectory::ReadFile(f.key_path);
    if (!key_pem.ok()) return key_pem.status();
    absl::StatusOr<std::string> cert_pem = KeyDirectory::ReadFile(f.cert_path);
    if (!cert_pem.ok()) return cert_pem.status();
    absl::StatusOr<std::shared_ptr<const auth::SigningKey>> key =
        auth::SigningKey::FromPem(f.name, *key_pem, *cert_pem, options);
    if (!key.ok()) return key.status();
    keys.push_back(*std::move(key));
  }
  return keys;
}

void PrintKeyLine(const CliContext& ctx, const char* what, const auth::SigningKey& key) {
  if (ctx.quiet) return;
  std::printf("%s %s (%s, %s, kid %s)\n", what, key.name().c_str(),
              std::string(auth::JwtAlgorithmName(key.algorithm())).c_str(),
              key.description().c_str(), key.kid().c_str());
}

const auth::SigningKey* Find(const std::vector<std::shared_ptr<const auth::SigningKey>>& keys,
                             const std::string& name) {
  for (const auto& k : keys) {
    if (k->name() == name) return k.get();
  }
  return nullptr;
}

int Generate(CliContext& ctx, const Args& args) {
  auth::TokenConfig config;
  absl::StatusOr<std::string> path = KeysDir(ctx, args, &config);
  if (!path.ok()) return Fail(path.status());
  absl::StatusOr<GenerateFlags> flags = ParseGenerateFlags(args);
  if (!flags.ok()) return Fail(flags.status());
  KeyDirectory dir(*path);
  absl::StatusOr<std::string> active = dir.ReadActive();
  if (!active.ok()) return Fail(active.status());
  absl::StatusOr<std::string> name = GenerateInto(dir, *flags);
  if (!name.ok()) return Fail(name.status());
  const bool activate = active->empty() || args.Has("--activate");
  if (activate) {
    absl::Status s = dir.SetActive(*name);
    if (!s.ok()) return Fail(s);
  }
  absl::StatusOr<std::vector<std::shared_ptr<const auth::SigningKey>>> keys = LoadAll(dir, config);
  if (!keys.ok()) return Fail(keys.status());
  const auth::SigningKey* key = Find(*keys, *name);
  if (key == nullptr) return Fail(absl::InternalError("the new key did not load"));
  PrintKeyLine(ctx, activate ? "generated and activated" : "generated (staged, not signing yet)", *key);
  if (!ctx.quiet && !activate) {
    std::printf("next: put `portunusctl keys bundle` into the registry's rootcertbundle, reload "
                "the registry, then run `portunusctl keys rotate`\n");
  }
  return 0;
}

int Rotate(CliContext& ctx, const Args& args) {
  auth::TokenConfig config;
  absl::StatusOr<std::string> path = KeysDir(ctx, args, &config);
  if (!path.ok()) return Fail(path.status());
  absl::StatusOr<GenerateFlags> flags = ParseGenerateFlags(args);
  if (!flags.ok()) return Fail(flags.status());
  KeyDirectory dir(*path);
  absl::StatusOr<std::string> active = dir.ReadActive();
  if (!active.ok()) return Fail(active.status());
  absl::StatusOr<std::vector<auth::KeyFiles>> files = dir.List();
  if (!files.ok() && !absl::IsNotFound(files.status())) return Fail(files.status());
  // The newest key staged after the active one, if any (names sort by creation time).
  std::string next;
  if (files.ok() && !files->empty() && files->back().name > *active) next = files->back().name;
  bool generated = false;
  if (next.empty() || args.Has("--new")) {
    absl::StatusOr<std::string> name = GenerateInto(dir, *flags);
    if (!name.ok()) return Fail(name.status());
    next = *name;
    generated = true;
  }
  absl::Status s = dir.SetActive(next);
  if (!s.ok()) return Fail(s);
  absl::StatusOr<std::vector<std::shared_ptr<const auth::SigningKey>>> keys = LoadAll(dir, config);
  if (!keys.ok()) return Fail(keys.status());
  if (const auth::SigningKey* key = Find(*keys, next)) {
    PrintKeyLine(ctx, generated ? "generated and activated" : "activated", *key);
  }
  if (!ctx.quiet) {
    if (!active->empty()) {
      std::printf("%s stays trusted: keep its certificate in the registry's bundle until its "
                  "tokens expire, then `portunusctl keys retire %s`\n",
                  active->c_str(), active->c_str());
    }
    if (generated) {
      std::printf("the registry must trust the new key: update its rootcertbundle with "
                  "`portunusctl keys bundle` (to avoid refused tokens in between, stage with "
                  "`keys generate` first)\n");
    }
  }
  return 0;
}

int List(CliContext& ctx, const Args& args) {
  auth::TokenConfig config;
  absl::StatusOr<std::string> path = KeysDir(ctx, args, &config);
  if (!path.ok()) return Fail(path.status());
  KeyDirectory dir(*path);
  absl::StatusOr<std::string> active = dir.ReadActive();
  if (!active.ok()) return Fail(active.status());
  absl::StatusOr<std::vector<std::shared_ptr<const auth::SigningKey>>> keys = LoadAll(dir, config);
  if (!keys.ok()) return Fail(keys.status());
  if (active->empty() && !keys->empty()) *active = keys->back()->name();
  if (ctx.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : *keys) {
      out.push_back({{"name", k->name()},
                     {"active", k->name() == *active},
                     {"algorithm", std::string(auth::JwtAlgorithmName(k->algorithm()))},
                     {"key", k->description()},
                     {"kid_libtrust", k->libtrust_kid()},
                     {"kid_jwk_thumbprint", k->jwk_thumbprint()},
                     {"subject", k->subject()},
                     {"not_after", absl::FormatTime(absl::RFC3339_sec, k->not_after(),
                                                    absl::UTCTimeZone())}});
    }
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : *keys) {
    rows.push_back({k->name() == *active ? "*" : "", k->name(),
                    std::string(auth::JwtAlgorithmName(k->algorithm())), k->description(),
                    absl::FormatTime("%Y-%m-%d", k->not_after(), absl::UTCTimeZone()), k->kid()});
  }
  PrintTable({"ACTIVE", "NAME", "ALG", "KEY", "EXPIRES", "KID"}, rows);
  return 0;
}

int Bundle(CliContext& ctx, const Args& args) {
  auth::TokenConfig config;
  absl::StatusOr<std::string> path = KeysDir(ctx, args, &config);
  if (!path.ok()) return Fail(path.status());
  absl::StatusOr<std::vector<std::shared_ptr<const auth::SigningKey>>> keys =
      LoadAll(KeyDirectory(*path), config);
  if (!keys.ok()) return Fail(keys.status());
  if (keys->empty()) {
    return Fail(absl::NotFoundError(absl::StrCat(
        "no signing keys in ", *path, ": create one with `portunusctl keys generate`")));
  }
  for (const auto& k : *keys) std::fputs(k->certificate_pem().c_str(), stdout);
  return 0;
}

int Retire(CliContext& ctx, const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: portunusctl keys retire NAME %s\n", kDirHelp);
    return 2;
  }
  auth::TokenConfig config;
  absl::StatusOr<std::string> path = KeysDir(ctx, args, &config);
  if (!path.ok()) return Fail(path.status());
  absl::Status s = KeyDirectory(*path).Retire(args.positional[0]);
  if (!s.ok()) return Fail(s);
  if (!ctx.quiet) {
    std::printf("retired %s: remove its certificate from the registry's bundle "
                "(`portunusctl keys bundle` no longer prints it)\n",
                args.positional[0].c_str());
  }
  return 0;
}

}  // namespace

void RegisterKeysCommands(CommandRegistry& registry) {
  registry.Add({{"keys", "generate"},
                "keys generate [--algorithm RS256|RS384|RS512|ES256] [--bits 2048] [--days 1825] "
                "[--activate] [--dir DIR]",
                "create a token signing key (active when it is the first, else staged)",
                {"--activate"},
                Generate});
  registry.Add({{"keys", "rotate"},
                "keys rotate [--new] [--algorithm A] [--bits N] [--days N] [--dir DIR]",
                "make the newest staged key (or a new one) sign; the old one stays trusted",
                {"--new"},
                Rotate});
  registry.Add({{"keys", "list"},
                "keys list [--dir DIR]",
                "list the signing keys: active, algorithm, expiry, kid",
                {},
                List});
  registry.Add({{"keys", "bundle"},
                "keys bundle [--dir DIR]",
                "print the PEM certificates of every trusted key (the registry's rootcertbundle)",
                {},
                Bundle});
  registry.Add({{"keys", "retire"},
                "keys retire NAME [--dir DIR]",
                "stop trusting a key that no longer signs (moves it to retired/)",
                {},
                Retire});
}

}  // namespace portunus::cli
