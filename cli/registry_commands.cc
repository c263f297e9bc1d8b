// portunusctl registry catalog | manifest IMAGE:TAG | delete IMAGE DIGEST: Portunus as a client
// of the registry, as the internal principal `portunus` (the development client of Portus's
// bin/client.rb, as a real command). Local administration: it reads the configuration file
// (registry.*, internal.secret, auth.address) and asks the auth service for registry tokens, so
// it needs auth running when the registry uses token auth.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "nlohmann/json.hpp"
#include "services/common/common_config.h"
#include "services/common/config.h"
#include "services/common/log.h"
#include "services/common/registry_client.h"
#include "services/common/registry_token_source.h"
#include "services/common/request_context.h"

namespace portunus::cli {
namespace {

// The client and what it needs, built from the configuration.
struct RegistryAccess {
  CommonConfig common;
  std::unique_ptr<GrpcRegistryTokenSource> tokens;
  std::unique_ptr<HttpRegistryClient> client;
};

absl::StatusOr<std::unique_ptr<RegistryAccess>> Connect(const CliContext& ctx) {
  auto access = std::make_unique<RegistryAccess>();
  ConfigBinder binder;
  BindCommonConfig(&binder, &access->common);
  if (absl::Status s = binder.Load(ctx.config_path); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", s.message()));
  }
  InitLogging("portunusctl", LogLevel::kWarn, false);
  const CommonConfig& c = access->common;
  access->tokens = std::make_unique<GrpcRegistryTokenSource>(
      MakeChannel(c.auth.address), c.internal_secret, c.rpc_timeout, RealClock::Get());
  HttpRegistryClient::Options o;
  o.url = c.registry.url;
  o.service = c.registry.service;
  o.ca_file = c.registry.ca_file;
  o.tls_verify = c.registry.tls_verify;
  o.timeout = c.registry.timeout;
  o.user_agent = "portunusctl";
  absl::StatusOr<std::unique_ptr<HttpRegistryClient>> client =
      HttpRegistryClient::Create(o, access->tokens.get(), RealClock::Get());
  if (!client.ok()) return client.status();
  access->client = std::move(*client);
  return access;
}

// "team/app:v1" -> {"team/app", "v1"}; "team/app@sha256:..." -> {"team/app", "sha256:..."};
// "team/app" -> {"team/app", "latest"}.
absl::Status SplitImage(const std::string& image, std::string* name, std::string* reference) {
  const size_t at = image.find('@');
  if (at != std::string::npos) {
    *name = image.substr(0, at);
    *reference = image.substr(at + 1);
  } else {
    const size_t slash = image.rfind('/');
    const size_t colon = image.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
      *name = image.substr(0, colon);
      *reference = image.substr(colon + 1);
    } else {
      *name = image;
      *reference = "latest";
    }
  }
  if (!IsValidRepositoryName(*name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", *name, "\" is not a repository name (e.g. team/app)"));
  }
  if (!IsValidTag(*reference) && !IsValidDigest(*reference)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", *reference, "\" is neither a tag nor a digest"));
  }
  return absl::OkStatus();
}

int Catalog(CliContext& ctx, const Args&) {
  absl::StatusOr<std::unique_ptr<RegistryAccess>> access = Connect(ctx);
  if (!access.ok()) return Fail(access.status());
  RegistryClient& registry = *(*access)->client;
  absl::StatusOr<std::vector<std::string>> names = ListAllRepositories(registry);
  if (!names.ok()) return Fail(names.status());
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  int failures = 0;
  for (const std::string& name : *names) {
    absl::StatusOr<std::vector<std::string>> tags = registry.ListTags(name);
    if (absl::IsNotFound(tags.status())) tags = std::vector<std::string>();
    if (!tags.ok()) {
      ++failures;
      std::fprintf(stderr, "portunusctl: %s\n", std::string(tags.status().message()).c_str());
      continue;
    }
    out.push_back({{"name", name}, {"tags", *tags}});
    rows.push_back({name, absl::StrJoin(*tags, " ")});
  }
  if (ctx.json()) {
    PrintJson(out);
  } else {
    PrintTable({"REPOSITORY", "TAGS"}, rows);
  }
  return failures == 0 ? 0 : 1;
}

int Manifest(CliContext& ctx, const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: portunusctl registry manifest IMAGE:TAG\n");
    return 2;
  }
  std::string name, reference;
  if (absl::Status s = SplitImage(args.positional[0], &name, &reference); !s.ok()) {
    std::fprintf(stderr, "portunusctl: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<RegistryAccess>> access = Connect(ctx);
  if (!access.ok()) return Fail(access.status());
  absl::StatusOr<FetchedManifest> m = (*access)->client->GetManifest(name, reference);
  if (!m.ok()) return Fail(m.status());
  nlohmann::json body = nlohmann::json::parse(m->body, nullptr, false);
  if (ctx.json()) {
    PrintJson({{"repository", name},
               {"reference", reference},
               {"digest", m->digest},
               {"media_type", m->media_type},
               {"manifest", body.is_discarded() ? nlohmann::json(m->body) : body}});
    return 0;
  }
  std::printf("%s\n", body.is_discarded()
                          ? m->body.c_str()
                          : body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::printf("media type: %s\n", m->media_type.c_str());
  std::printf("digest: %s\n", m->digest.c_str());
  return 0;
}

int Delete(CliContext& ctx, const Args& args) {
  if (args.positional.size() != 2) {
    std::fprintf(stderr, "usage: portunusctl registry delete IMAGE DIGEST\n");
    return 2;
  }
  const std::string& name = args.positional[0];
  const std::string& digest = args.positional[1];
  if (!IsValidRepositoryName(name)) {
    std::fprintf(stderr, "portunusctl: \"%s\" is not a repository name (e.g. team/app)\n", name.c_str());
    return 2;
  }
  if (!IsValidDigest(digest)) {
    std::fprintf(stderr,
                 "portunusctl: \"%s\" is not a digest (sha256:...); the registry deletes manifests "
                 "by digest only: find it with `portunusctl registry manifest %s:TAG`\n",
                 digest.c_str(), name.c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<RegistryAccess>> access = Connect(ctx);
  if (!access.ok()) return Fail(access.status());
  // Say which tags go with it: every tag pointing at the digest is deleted by the registry.
  std::vector<std::string> going;
  absl::StatusOr<std::vector<std::string>> tags = (*access)->client->ListTags(name);
  if (tags.ok()) {
    for (const std::string& t : *tags) {
      absl::StatusOr<ManifestHead> head = (*access)->client->HeadManifest(name, t);
      if (head.ok() && head->digest == digest) going.push_back(t);
    }
  }
  if (absl::Status s = (*access)->client->DeleteManifest(name, digest); !s.ok()) return Fail(s);
  if (ctx.json()) {
    PrintJson({{"repository", name}, {"digest", digest}, {"deleted_tags", going}});
  } else if (!ctx.quiet) {
    std::printf("deleted %s@%s%s%s\n", name.c_str(), digest.c_str(),
                going.empty() ? "" : " (tags: ", going.empty() ? "" : (absl::StrJoin(going, ", ") + ")").c_str());
  }
  return 0;
}

}  // namespace

void RegisterRegistryCommands(CommandRegistry& registry) {
  registry.Add({{"registry", "catalog"},
                "registry catalog",
                "list every repository of the registry and its tags (as `portunus`)",
                {},
                Catalog});
  registry.Add({{"registry", "manifest"},
                "registry manifest IMAGE:TAG",
                "print the manifest of IMAGE:TAG (or IMAGE@DIGEST) and its digest",
                {},
                Manifest});
  registry.Add({{"registry", "delete"},
                "registry delete IMAGE DIGEST",
                "delete the manifest DIGEST of IMAGE in the registry (with every tag on it)",
                {},
                Delete});
}

}  // namespace portunus::cli
