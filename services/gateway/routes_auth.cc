// Portus's REST API v1 for the identity model (users, application tokens, teams, members,
// namespaces, explain), served by portunus-auth's UserService, TeamService, NamespaceService and
// AccessService. Each handler checks what only HTTP can get wrong (path and query values that
// are not UTF-8, request bodies, paging parameters), makes one call and maps the answer; every
// rule of the model lives in the auth service.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "portunus/auth/v1/access.grpc.pb.h"
#include "portunus/auth/v1/identity.grpc.pb.h"
#include "services/common/utf8.h"
#include "services/common/status_mapping.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace v1 = ::portunus::auth::v1;
using Json = nlohmann::json;

// Longest path reference or query value passed on; real names are at most 255 characters.
constexpr size_t kMaxReferenceBytes = 1024;

// A path or query value the backend may receive: valid UTF-8 (protobuf strings must be) and of
// a sane length. InvalidFieldError naming `field` otherwise.
absl::Status CheckText(absl::string_view field, absl::string_view value) {
  if (!IsValidUtf8(value)) return InvalidFieldError(field, "is not valid UTF-8");
  if (value.size() > kMaxReferenceBytes) {
    return InvalidFieldError(field, absl::StrCat("is too long (at most ", kMaxReferenceBytes,
                                                 " bytes)"));
  }
  return absl::OkStatus();
}

// ErrorResponse, plus the challenge RFC 7235 requires on a 401.
HttpResponse Error(const absl::Status& status, absl::string_view request_id) {
  HttpResponse r = ErrorResponse(status, request_id);
  if (r.status == 401) r.SetHeader("WWW-Authenticate", "Basic realm=\"Portunus\"");
  return r;
}

// `status` with its field prefixed by `prefix` ("namespace." + "team").
absl::Status PrefixField(const absl::Status& status, absl::string_view prefix) {
  const std::string field = ErrorField(status);
  if (field.empty()) return status;
  absl::string_view message = status.message();
  const std::string head = absl::StrCat(field, ": ");
  if (absl::StartsWith(message, head)) message.remove_prefix(head.size());
  return InvalidFieldError(absl::StrCat(prefix, field), message);
}

// Parses the request body into *message. `path_fields` are fields of the RPC request that come
// from the path: the body may not set them (they would be overwritten anyway; naming them is
// clearer than ignoring them). With `wrapper`, Portus's wrapped form {"<wrapper>": {...}} is
// accepted besides the flat one.
absl::Status ParseBody(const HttpRequest& request, google::protobuf::Message* message,
                       std::initializer_list<absl::string_view> path_fields,
                       absl::string_view wrapper = "") {
  absl::string_view body = request.body;
  std::string inner;
  if (!wrapper.empty()) {
    Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded() && doc.is_object() && doc.size() == 1 &&
        doc.contains(std::string(wrapper)) && doc[std::string(wrapper)].is_object()) {
      inner = doc[std::string(wrapper)].dump();
      absl::Status s = ParseJsonBody(inner, message);
      if (!s.ok()) return PrefixField(s, absl::StrCat(wrapper, "."));
      body = inner;
    }
  }
  if (inner.empty()) {
    if (absl::Status s = ParseJsonBody(body, message); !s.ok()) return s;
  }
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  const google::protobuf::Reflection* r = message->GetReflection();
  const std::string prefix = inner.empty() ? "" : absl::StrCat(wrapper, ".");
  for (absl::string_view name : path_fields) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(std::string(name));
    if (f != nullptr && !f->is_repeated() && r->HasField(*message, f)) {
      return InvalidFieldError(absl::StrCat(prefix, name), "unknown field (it is part of the path)");
    }
  }
  return absl::OkStatus();
}

void FillPaging(const PageParams& page, v1::Paging* out) {
  out->set_page(page.page);
  out->set_per_page(page.per_page);
  out->set_sort_attr(page.sort_attr);
  out->set_sort_order(page.descending ? "desc" : "asc");
  out->set_all(page.all);
}

// A handler factory shared by every route: the request is kept alive (shared) until the
// backend answered, since paging headers are built from it.
using Shared = std::shared_ptr<const HttpRequest>;

// Makes `rpc`'s call and answers `ok(response)` or the mapped error.
template <class Stub, class Req, class Resp, class Ok>
void Forward(Upstreams& up, Stub& stub,
             std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> (Stub::*prepare)(
                 grpc::ClientContext*, const Req&, grpc::CompletionQueue*),
             const Req& rpc, const Shared& request, HttpResponder respond, Ok ok) {
  up.Call(stub, prepare, rpc, *request,
          [request, respond = std::move(respond), ok = std::move(ok)](absl::Status s,
                                                                      Resp& response) {
            respond(s.ok() ? ok(response) : Error(s, request->request_id));
          });
}

// A 200 JSON array of the page's items with Portus's paging headers.
template <class Items>
HttpResponse PageResponse(const HttpRequest& request, const std::string& external_url,
                          const PageParams& page, const Items& items, int64_t total) {
  HttpResponse r = JsonResponse(200, MessagesToJsonArray(items));
  SetPagingHeaders(request, external_url, page, total, &r);
  return r;
}

HttpResponse NoContent() { return HttpResponse(204); }

// Checks the path parameters named in `names` (UTF-8, length). The first failure, or OK.
absl::Status CheckParams(const PathParams& params, std::initializer_list<absl::string_view> names) {
  for (absl::string_view n : names) {
    if (absl::Status s = CheckText(n, params.Get(n)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

struct Stubs {
  std::shared_ptr<v1::UserService::Stub> users;
  std::shared_ptr<v1::TeamService::Stub> teams;
  std::shared_ptr<v1::NamespaceService::Stub> namespaces;
  std::shared_ptr<v1::AccessService::Stub> access;
};

void RegisterUserRoutes(Router& router, Upstreams& up, const Stubs& st, const std::string& url) {
  auto users = st.users;
  using S = v1::UserService::Stub;

  router.Add("GET", "/api/v1/users", [&up, users, url](HttpRequest&& req, PathParams, HttpResponder respond) {
    absl::StatusOr<PageParams> page = ParsePaging(req);
    if (!page.ok()) return respond(Error(page.status(), req.request_id));
    v1::ListUsersRequest rpc;
    FillPaging(*page, rpc.mutable_paging());
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncListUsers, rpc, shared, std::move(respond),
            [shared, url, page = *page](v1::ListUsersResponse& r) {
              return PageResponse(*shared, url, page, r.users(), r.total());
            });
  });

  router.Add("POST", "/api/v1/users", [&up, users](HttpRequest&& req, PathParams, HttpResponder respond) {
    v1::CreateUserRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {}); !s.ok()) return respond(Error(s, req.request_id));
    if (!rpc.has_user()) return respond(Error(InvalidFieldError("user", "is required"), req.request_id));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncCreateUser, rpc, shared, std::move(respond),
            [](v1::User& u) { return ProtoResponse(201, u); });
  });

  router.Add("POST", "/api/v1/users/bootstrap",
             [&up, users](HttpRequest&& req, PathParams, HttpResponder respond) {
    v1::BootstrapRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {}); !s.ok()) return respond(Error(s, req.request_id));
    if (!rpc.has_user()) return respond(Error(InvalidFieldError("user", "is required"), req.request_id));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncBootstrap, rpc, shared, std::move(respond),
            [](v1::CreatedApplicationToken& t) { return ProtoResponse(201, t); });
  });

  router.Add("GET", "/api/v1/users/:id", [&up, users](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::UserRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncGetUser, rpc, shared, std::move(respond),
            [](v1::User& u) { return ProtoResponse(200, u); });
  });

  router.Add("PUT", "/api/v1/users/:id", [&up, users](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::UpdateUserRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    if (!rpc.has_user()) return respond(Error(InvalidFieldError("user", "is required"), req.request_id));
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncUpdateUser, rpc, shared, std::move(respond),
            [](v1::User& u) { return ProtoResponse(200, u); });
  });

  router.Add("DELETE", "/api/v1/users/:id", [&up, users](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::UserRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncDeleteUser, rpc, shared, std::move(respond),
            [](google::protobuf::Empty&) { return NoContent(); });
  });

  router.Add("GET", "/api/v1/users/:id/application_tokens",
             [&up, users](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::UserRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncListApplicationTokens, rpc, shared, std::move(respond),
            [](v1::ListApplicationTokensResponse& r) {
              return JsonResponse(200, MessagesToJsonArray(r.application_tokens()));
            });
  });

  router.Add("POST", "/api/v1/users/:id/application_tokens",
             [&up, users](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::CreateApplicationTokenRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncCreateApplicationToken, rpc, shared, std::move(respond),
            [](v1::CreatedApplicationToken& t) { return ProtoResponse(201, t); });
  });

  router.Add("DELETE", "/api/v1/users/application_tokens/:id",
             [&up, users](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::ApplicationTokenRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *users, &S::PrepareAsyncDeleteApplicationToken, rpc, shared, std::move(respond),
            [](google::protobuf::Empty&) { return NoContent(); });
  });
}

void RegisterTeamRoutes(Router& router, Upstreams& up, const Stubs& st, const std::string& url) {
  auto teams = st.teams;
  using S = v1::TeamService::Stub;

  router.Add("GET", "/api/v1/teams", [&up, teams, url](HttpRequest&& req, PathParams, HttpResponder respond) {
    absl::StatusOr<PageParams> page = ParsePaging(req);
    if (!page.ok()) return respond(Error(page.status(), req.request_id));
    v1::ListTeamsRequest rpc;
    FillPaging(*page, rpc.mutable_paging());
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncListTeams, rpc, shared, std::move(respond),
            [shared, url, page = *page](v1::ListTeamsResponse& r) {
              return PageResponse(*shared, url, page, r.teams(), r.total());
            });
  });

  router.Add("POST", "/api/v1/teams", [&up, teams](HttpRequest&& req, PathParams, HttpResponder respond) {
    v1::CreateTeamRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {}, "team"); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncCreateTeam, rpc, shared, std::move(respond),
            [](v1::Team& t) { return ProtoResponse(201, t); });
  });

  router.Add("GET", "/api/v1/teams/:id", [&up, teams](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::TeamRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncGetTeam, rpc, shared, std::move(respond),
            [](v1::Team& t) { return ProtoResponse(200, t); });
  });

  router.Add("PUT", "/api/v1/teams/:id", [&up, teams](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::UpdateTeamRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {"id"}, "team"); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncUpdateTeam, rpc, shared, std::move(respond),
            [](v1::Team& t) { return ProtoResponse(200, t); });
  });

  router.Add("DELETE", "/api/v1/teams/:id", [&up, teams](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::TeamRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncDeleteTeam, rpc, shared, std::move(respond),
            [](google::protobuf::Empty&) { return NoContent(); });
  });

  router.Add("GET", "/api/v1/teams/:id/members",
             [&up, teams, url](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    absl::StatusOr<PageParams> page = ParsePaging(req);
    if (!page.ok()) return respond(Error(page.status(), req.request_id));
    v1::ListTeamMembersRequest rpc;
    rpc.set_id(p.Get("id"));
    FillPaging(*page, rpc.mutable_paging());
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncListTeamMembers, rpc, shared, std::move(respond),
            [shared, url, page = *page](v1::ListTeamMembersResponse& r) {
              return PageResponse(*shared, url, page, r.members(), r.total());
            });
  });

  router.Add("POST", "/api/v1/teams/:id/members",
             [&up, teams](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::AddTeamMemberRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncAddTeamMember, rpc, shared, std::move(respond),
            [](v1::TeamMember& m) { return ProtoResponse(201, m); });
  });

  router.Add("PUT", "/api/v1/teams/:id/members/:member_id",
             [&up, teams](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id", "member_id"}); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    v1::UpdateTeamMemberRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {"id", "member_id"}); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    rpc.set_id(p.Get("id"));
    rpc.set_member_id(p.Get("member_id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncUpdateTeamMember, rpc, shared, std::move(respond),
            [](v1::TeamMember& m) { return ProtoResponse(200, m); });
  });

  router.Add("DELETE", "/api/v1/teams/:id/members/:member_id",
             [&up, teams](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id", "member_id"}); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    v1::TeamMemberRef rpc;
    rpc.set_id(p.Get("id"));
    rpc.set_member_id(p.Get("member_id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncRemoveTeamMember, rpc, shared, std::move(respond),
            [](google::protobuf::Empty&) { return NoContent(); });
  });

  router.Add("GET", "/api/v1/teams/:id/namespaces",
             [&up, teams, url](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    absl::StatusOr<PageParams> page = ParsePaging(req);
    if (!page.ok()) return respond(Error(page.status(), req.request_id));
    v1::ListTeamNamespacesRequest rpc;
    rpc.set_id(p.Get("id"));
    FillPaging(*page, rpc.mutable_paging());
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *teams, &S::PrepareAsyncListTeamNamespaces, rpc, shared, std::move(respond),
            [shared, url, page = *page](v1::ListNamespacesResponse& r) {
              return PageResponse(*shared, url, page, r.namespaces(), r.total());
            });
  });
}

void RegisterNamespaceRoutes(Router& router, Upstreams& up, const Stubs& st,
                             const std::string& url) {
  auto namespaces = st.namespaces;
  using S = v1::NamespaceService::Stub;

  router.Add("GET", "/api/v1/namespaces",
             [&up, namespaces, url](HttpRequest&& req, PathParams, HttpResponder respond) {
    absl::StatusOr<PageParams> page = ParsePaging(req);
    if (!page.ok()) return respond(Error(page.status(), req.request_id));
    v1::ListNamespacesRequest rpc;
    FillPaging(*page, rpc.mutable_paging());
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *namespaces, &S::PrepareAsyncListNamespaces, rpc, shared, std::move(respond),
            [shared, url, page = *page](v1::ListNamespacesResponse& r) {
              return PageResponse(*shared, url, page, r.namespaces(), r.total());
            });
  });

  router.Add("POST", "/api/v1/namespaces",
             [&up, namespaces](HttpRequest&& req, PathParams, HttpResponder respond) {
    v1::CreateNamespaceRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {}, "namespace"); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *namespaces, &S::PrepareAsyncCreateNamespace, rpc, shared, std::move(respond),
            [](v1::Namespace& n) { return ProtoResponse(201, n); });
  });

  router.Add("GET", "/api/v1/namespaces/validate",
             [&up, namespaces](HttpRequest&& req, PathParams, HttpResponder respond) {
    if (!req.HasQuery("name")) {
      return respond(Error(InvalidFieldError("name", "is required"), req.request_id));
    }
    const std::string name = req.Query("name");
    if (absl::Status s = CheckText("name", name); !s.ok()) return respond(Error(s, req.request_id));
    v1::ValidateNamespaceRequest rpc;
    rpc.set_name(name);
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *namespaces, &S::PrepareAsyncValidateNamespace, rpc, shared, std::move(respond),
            [](v1::ValidateNamespaceResponse& r) { return ProtoResponse(200, r); });
  });

  router.Add("GET", "/api/v1/namespaces/:id",
             [&up, namespaces](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::NamespaceRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *namespaces, &S::PrepareAsyncGetNamespace, rpc, shared, std::move(respond),
            [](v1::Namespace& n) { return ProtoResponse(200, n); });
  });

  router.Add("PUT", "/api/v1/namespaces/:id",
             [&up, namespaces](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::UpdateNamespaceRequest rpc;
    if (absl::Status s = ParseBody(req, &rpc, {"id"}, "namespace"); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *namespaces, &S::PrepareAsyncUpdateNamespace, rpc, shared, std::move(respond),
            [](v1::Namespace& n) { return ProtoResponse(200, n); });
  });

  router.Add("DELETE", "/api/v1/namespaces/:id",
             [&up, namespaces](HttpRequest&& req, PathParams p, HttpResponder respond) {
    if (absl::Status s = CheckParams(p, {"id"}); !s.ok()) return respond(Error(s, req.request_id));
    v1::NamespaceRef rpc;
    rpc.set_id(p.Get("id"));
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *namespaces, &S::PrepareAsyncDeleteNamespace, rpc, shared, std::move(respond),
            [](google::protobuf::Empty&) { return NoContent(); });
  });
}

void RegisterExplainRoutes(Router& router, Upstreams& up, const Stubs& st) {
  auto access = st.access;
  router.Add("GET", "/api/v1/explain", [&up, access](HttpRequest&& req, PathParams, HttpResponder respond) {
    v1::ExplainRequest rpc;
    const std::string account = req.Query("account");
    if (absl::Status s = CheckText("account", account); !s.ok()) {
      return respond(Error(s, req.request_id));
    }
    rpc.set_account(account);
    const std::vector<std::string> scopes = req.QueryAll("scope");
    if (scopes.empty()) {
      return respond(Error(InvalidFieldError("scope", "is required (e.g. repository:team/app:pull)"),
                           req.request_id));
    }
    for (const std::string& scope : scopes) {
      if (absl::Status s = CheckText("scope", scope); !s.ok()) return respond(Error(s, req.request_id));
      rpc.add_scope(scope);
    }
    auto shared = std::make_shared<const HttpRequest>(std::move(req));
    Forward(up, *access, &v1::AccessService::Stub::PrepareAsyncExplain, rpc, shared,
            std::move(respond), [](v1::ExplainResponse& r) { return ProtoResponse(200, r); });
  });
}

}  // namespace

void RegisterAuthRoutes(Router& router, Upstreams& upstreams) {
  Stubs stubs{std::shared_ptr<v1::UserService::Stub>(v1::UserService::NewStub(upstreams.auth())),
              std::shared_ptr<v1::TeamService::Stub>(v1::TeamService::NewStub(upstreams.auth())),
              std::shared_ptr<v1::NamespaceService::Stub>(
                  v1::NamespaceService::NewStub(upstreams.auth())),
              std::shared_ptr<v1::AccessService::Stub>(v1::AccessService::NewStub(upstreams.auth()))};
  const std::string url = router.external_url();
  RegisterUserRoutes(router, upstreams, stubs, url);
  RegisterTeamRoutes(router, upstreams, stubs, url);
  RegisterNamespaceRoutes(router, upstreams, stubs, url);
  RegisterExplainRoutes(router, upstreams, stubs);
}

}  // namespace portunus::gateway
