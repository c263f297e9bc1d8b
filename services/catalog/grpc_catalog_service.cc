#include "services/catalog/grpc_catalog_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "portunus/catalog/v1/events.grpc.pb.h"
#include "portunus/catalog/v1/sync.grpc.pb.h"
#include "services/common/grpc_handler.h"
#include "services/common/request_context.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"

namespace portunus::catalog {
namespace {

namespace pb = ::portunus::catalog::v1;

// Unknown times stay unset (null in JSON).
bool Known(absl::Time t) { return t != absl::InfinitePast() && t != absl::InfiniteFuture(); }

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

std::string ImageId(const std::string& config_digest) {
  const size_t colon = config_digest.find(':');
  return colon == std::string::npos ? config_digest : config_digest.substr(colon + 1);
}

absl::StatusOr<PageRequest> FromProto(const pb::PageRequest& p) {
  PageRequest out;
  out.all = p.all();
  if (p.page() < 0) return InvalidFieldError("page", "must be at least 1");
  out.page = p.page() == 0 ? 1 : p.page();
  if (p.per_page() < 0 || p.per_page() > 500) {
    return InvalidFieldError("per_page", "must be between 1 and 500");
  }
  out.per_page = p.per_page() == 0 ? 15 : p.per_page();
  out.sort_attr = p.sort_attr();
  const std::string order = absl::AsciiStrToLower(p.sort_order());
  if (!order.empty() && order != "asc" && order != "desc") {
    return InvalidFieldError("sort_order", "must be asc or desc");
  }
  out.descending = order == "desc";
  return out;
}

void ToProto(const PageRequest& req, int64_t total, pb::PageInfo* out) {
  out->set_total(total);
  out->set_page(req.all ? 1 : req.page);
  out->set_per_page(req.all ? static_cast<int32_t>(std::min<int64_t>(total, INT32_MAX)) : req.per_page);
}

void ToProto(const Platform& p, pb::Platform* out) {
  out->set_os(p.os);
  out->set_architecture(p.architecture);
  out->set_variant(p.variant);
  out->set_digest(p.digest);
}

void ToProto(const RepositoryRecord& r, pb::Repository* out) {
  out->set_id(r.id);
  out->set_name(ShortName(r.full_name));
  out->set_full_name(r.full_name);
  out->mutable_namespace_()->set_id(r.namespace_id);
  out->mutable_namespace_()->set_name(r.namespace_name);
  out->set_tags_count(r.tags_count);
  for (const std::string& d : r.digests) out->add_digests(d);
  if (Known(r.created_at)) ToTimestamp(r.created_at, out->mutable_created_at());
  if (Known(r.updated_at)) ToTimestamp(r.updated_at, out->mutable_updated_at());
}

void ToProto(const TagRecord& t, pb::Tag* out) {
  out->set_id(t.id);
  out->set_name(t.name);
  out->set_digest(t.digest);
  out->set_image_id(ImageId(t.manifest.config_digest));
  out->set_size(t.manifest.size);
  out->set_media_type(t.manifest.media_type);
  for (const Platform& p : t.manifest.platforms) ToProto(p, out->add_platforms());
  out->mutable_author()->set_name(t.author);
  if (Known(t.created_at)) ToTimestamp(t.created_at, out->mutable_created_at());
  if (Known(t.updated_at)) ToTimestamp(t.updated_at, out->mutable_updated_at());
  if (Known(t.pulled_at)) ToTimestamp(t.pulled_at, out->mutable_pulled_at());
  out->set_repository_id(t.repository_id);
  out->set_repository(t.repository);
  out->set_config_digest(t.manifest.config_digest);
  if (Known(t.manifest.image_created)) ToTimestamp(t.manifest.image_created, out->mutable_image_created_at());
}

pb::Event::Status ToProto(EventStatus s) {
  switch (s) {
    case EventStatus::kPending:
      return pb::Event::PENDING;
    case EventStatus::kDone:
      return pb::Event::DONE;
    case EventStatus::kFailed:
      return pb::Event::FAILED;
    case EventStatus::kRejected:
      return pb::Event::REJECTED;
  }
  return pb::Event::STATUS_UNSPECIFIED;
}

void ToProto(const IngestCounts& c, pb::IngestNotificationResponse* out) {
  out->set_stored(c.stored);
  out->set_duplicates(c.duplicates);
  out->set_rejected(c.rejected);
  out->set_ignored(c.ignored);
}

void ToProto(const StoredEvent& e, pb::Event* out) {
  out->set_id(e.id);
  out->set_event_id(e.event.event_id);
  out->set_status(ToProto(e.event.status));
  out->set_action(e.event.action);
  out->set_repository(e.event.repository);
  out->set_tag(e.event.tag);
  out->set_digest(e.event.digest);
  out->set_media_type(e.event.media_type);
  out->set_actor(e.event.actor);
  out->set_attempts(e.attempts);
  out->set_last_error(e.last_error);
  if (Known(e.received_at)) ToTimestamp(e.received_at, out->mutable_received_at());
  if (Known(e.event.event_time)) ToTimestamp(e.event.event_time, out->mutable_event_time());
  if (e.event.status == EventStatus::kPending && Known(e.next_attempt_at)) ToTimestamp(e.next_attempt_at, out->mutable_next_attempt_at());
  if (Known(e.processed_at)) ToTimestamp(e.processed_at, out->mutable_processed_at());
  out->set_payload(e.event.payload);
}

pb::SyncRun::State ToProto(SyncState s) {
  switch (s) {
    case SyncState::kRunning:
      return pb::SyncRun::RUNNING;
    case SyncState::kSucceeded:
      return pb::SyncRun::SUCCEEDED;
    case SyncState::kPartial:
      return pb::SyncRun::PARTIAL;
    case SyncState::kBraked:
      return pb::SyncRun::BRAKED;
    case SyncState::kFailed:
      return pb::SyncRun::FAILED;
  }
  return pb::SyncRun::STATE_UNSPECIFIED;
}

void ToProto(const SyncReport& r, pb::SyncRun* out) {
  out->set_id(r.id);
  out->set_state(ToProto(r.state));
  out->set_trigger(r.trigger);
  out->set_strategy(r.strategy);
  out->set_dry_run(r.dry_run);
  out->set_force(r.force);
  if (Known(r.started_at)) ToTimestamp(r.started_at, out->mutable_started_at());
  if (Known(r.finished_at)) ToTimestamp(r.finished_at, out->mutable_finished_at());
  out->set_repositories(r.repositories);
  out->set_tags(r.tags);
  out->set_added(r.added);
  out->set_updated(r.updated);
  out->set_deleted(r.deleted);
  out->set_repositories_deleted(r.repositories_deleted);
  for (const SyncFailure& f : r.failures) {
    pb::SyncFailure* pf = out->add_failures();
    pf->set_repository(f.repository);
    pf->set_error(f.error);
  }
  pb::SyncBrake* b = out->mutable_brake();
  b->set_engaged(r.brake.engaged);
  b->set_would_delete(r.brake.would_delete);
  b->set_known_tags(r.brake.known_tags);
  b->set_max_delete_percent(r.brake.max_delete_percent);
  b->set_reason(r.brake.reason);
  for (const SyncChange& c : r.changes) {
    pb::SyncChange* pc = out->add_changes();
    pc->set_kind(c.kind == SyncChange::Kind::kAdd      ? pb::SyncChange::ADD
                 : c.kind == SyncChange::Kind::kUpdate ? pb::SyncChange::UPDATE
                                                       : pb::SyncChange::DELETE);
    pc->set_repository(c.repository);
    pc->set_tag(c.tag);
    pc->set_old_digest(c.old_digest);
    pc->set_new_digest(c.new_digest);
  }
  out->set_changes_truncated(r.changes_truncated);
  out->set_error(r.error);
  out->set_replica(r.replica);
}

absl::Status RequireId(int64_t id, const char* field) {
  if (id <= 0) return InvalidFieldError(field, "must be a positive id");
  return absl::OkStatus();
}

// Runs `fn(caller)` on the worker pool after authenticating the caller from the metadata.
template <typename Fn>
grpc::ServerUnaryReactor* WithCaller(grpc::CallbackServerContext* ctx,
                                     const CatalogTransportDeps& deps, Fn fn) {
  CallerCredentials creds{MetadataValue(*ctx, kAuthorizationMetadata),
                        MetadataValue(*ctx, kPortusAuthMetadata)};
  CatalogApi* api = &deps.api;
  return RunOnWorkers(ctx, deps.runtime,
                      [api, creds = std::move(creds), fn = std::move(fn)](const std::string&) -> absl::Status {
                        PORTUNUS_ASSIGN_OR_RETURN(Caller caller, api->Authenticate(creds));
                        return fn(caller);
                      });
}

// ----- CatalogService -----

class CatalogGrpcService final : public pb::CatalogService::CallbackService {
 public:
  explicit CatalogGrpcService(CatalogTransportDeps deps) : d_(deps) {}

  grpc::ServerUnaryReactor* ListRepositories(grpc::CallbackServerContext* ctx,
                                             const pb::ListRepositoriesRequest* req,
                                             pb::ListRepositoriesResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_ASSIGN_OR_RETURN(PageRequest page, FromProto(req->page()));
      if (req->namespace_id() < 0) return InvalidFieldError("namespace_id", "must not be negative");
      PORTUNUS_ASSIGN_OR_RETURN(auto repos, d_.api.ListRepositories(c, req->namespace_id(), "", page));
      for (const RepositoryRecord& r : repos.first) ToProto(r, resp->add_repositories());
      ToProto(page, repos.second, resp->mutable_page());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const pb::SearchRequest* req,
                                   pb::ListRepositoriesResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_ASSIGN_OR_RETURN(PageRequest page, FromProto(req->page()));
      if (req->q().empty()) return InvalidFieldError("q", "must not be empty");
      if (req->q().size() > 255) return InvalidFieldError("q", "must be at most 255 characters");
      PORTUNUS_ASSIGN_OR_RETURN(auto repos, d_.api.ListRepositories(c, 0, req->q(), page));
      for (const RepositoryRecord& r : repos.first) ToProto(r, resp->add_repositories());
      ToProto(page, repos.second, resp->mutable_page());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetRepository(grpc::CallbackServerContext* ctx,
                                          const pb::GetRepositoryRequest* req,
                                          pb::Repository* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->id(), "id"));
      PORTUNUS_ASSIGN_OR_RETURN(RepositoryRecord r, d_.api.GetRepository(c, req->id()));
      ToProto(r, resp);
      PageRequest all;
      all.all = true;
      PORTUNUS_ASSIGN_OR_RETURN(auto tags, d_.api.ListTags(c, r.id, all));
      for (const TagRecord& t : tags.first) ToProto(t, resp->add_tags());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* DeleteRepository(grpc::CallbackServerContext* ctx,
                                             const pb::DeleteRepositoryRequest* req,
                                             pb::DeleteRepositoryResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->id(), "id"));
      PORTUNUS_ASSIGN_OR_RETURN(int n, d_.api.DeleteRepository(c, req->id()));
      resp->set_deleted_manifests(n);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListTags(grpc::CallbackServerContext* ctx,
                                     const pb::ListTagsRequest* req,
                                     pb::ListTagsResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->repository_id(), "repository_id"));
      PORTUNUS_ASSIGN_OR_RETURN(PageRequest page, FromProto(req->page()));
      PORTUNUS_ASSIGN_OR_RETURN(auto tags, d_.api.ListTags(c, req->repository_id(), page));
      for (const TagRecord& t : tags.first) ToProto(t, resp->add_tags());
      ToProto(page, tags.second, resp->mutable_page());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListGroupedTags(grpc::CallbackServerContext* ctx,
                                            const pb::ListGroupedTagsRequest* req,
                                            pb::ListGroupedTagsResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->repository_id(), "repository_id"));
      PORTUNUS_ASSIGN_OR_RETURN(auto groups, d_.api.GroupedTags(c, req->repository_id()));
      for (const TagGroupRecord& g : groups) {
        pb::TagGroup* pg = resp->add_groups();
        pg->set_digest(g.digest);
        for (const TagRecord& t : g.tags) ToProto(t, pg->add_tags());
      }
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetTag(grpc::CallbackServerContext* ctx, const pb::GetTagRequest* req,
                                   pb::Tag* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->id(), "id"));
      PORTUNUS_ASSIGN_OR_RETURN(TagRecord t, d_.api.GetTag(c, req->id()));
      ToProto(t, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* DeleteTag(grpc::CallbackServerContext* ctx,
                                      const pb::DeleteTagRequest* req,
                                      pb::DeleteTagResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->id(), "id"));
      PORTUNUS_ASSIGN_OR_RETURN(std::vector<std::string> restored, d_.api.DeleteTag(c, req->id()));
      for (const std::string& t : restored) resp->add_restored_tags(t);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListAllTags(grpc::CallbackServerContext* ctx,
                                        const pb::ListAllTagsRequest* req,
                                        pb::ListTagsResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_ASSIGN_OR_RETURN(PageRequest page, FromProto(req->page()));
      PORTUNUS_ASSIGN_OR_RETURN(auto tags, d_.api.ListAllTags(c, page));
      for (const TagRecord& t : tags.first) ToProto(t, resp->add_tags());
      ToProto(page, tags.second, resp->mutable_page());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListManifestsSince(grpc::CallbackServerContext* ctx,
                                               const pb::ListManifestsSinceRequest* req,
                                               pb::ListManifestsSinceResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_ASSIGN_OR_RETURN(CatalogStore::FeedPage page,
                                d_.api.ListFeed(c, req->after_seq(), req->limit()));
      for (const FeedEntry& e : page.entries) {
        pb::ManifestFeedEntry* pe = resp->add_entries();
        pe->set_seq(e.seq);
        pe->set_repository(e.repository);
        pe->set_digest(e.digest);
        pe->set_media_type(e.media_type);
        pe->set_tag(e.tag);
        if (Known(e.created_at)) ToTimestamp(e.created_at, pe->mutable_created_at());
      }
      resp->set_oldest_seq(page.oldest_seq);
      resp->set_latest_seq(page.latest_seq);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetManifest(grpc::CallbackServerContext* ctx,
                                        const pb::GetManifestRequest* req,
                                        pb::Manifest* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_ASSIGN_OR_RETURN(ManifestInfo m, d_.api.GetManifest(c, req->repository(), req->digest()));
      resp->set_repository(req->repository());
      resp->set_digest(m.digest);
      resp->set_media_type(m.media_type);
      resp->set_size(m.size);
      resp->set_config_digest(m.config_digest);
      if (Known(m.image_created)) ToTimestamp(m.image_created, resp->mutable_image_created_at());
      for (const Platform& p : m.platforms) ToProto(p, resp->add_platforms());
      for (const Layer& l : m.layers) {
        pb::Layer* pl = resp->add_layers();
        pl->set_digest(l.digest);
        pl->set_size(l.size);
        pl->set_media_type(l.media_type);
      }
      for (const std::string& child : m.children) resp->add_children(child);
      return absl::OkStatus();
    });
  }

 private:
  CatalogTransportDeps d_;
};

// ----- EventService -----

class EventGrpcService final : public pb::EventService::CallbackService {
 public:
  explicit EventGrpcService(CatalogTransportDeps deps) : d_(deps) {}

  grpc::ServerUnaryReactor* IngestNotification(grpc::CallbackServerContext* ctx,
                                               const pb::IngestNotificationRequest* req,
                                               pb::IngestNotificationResponse* resp) override {
    return RunOnWorkers(ctx, d_.runtime, [this, req, resp](const std::string&) -> absl::Status {
      PORTUNUS_ASSIGN_OR_RETURN(IngestCounts counts,
                                d_.ingestor.Ingest(req->authorization(), req->content_type(), req->body()));
      ToProto(counts, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* IngestNotifications(grpc::CallbackServerContext* ctx,
                                                const pb::IngestNotificationsRequest* req,
                                                pb::IngestNotificationsResponse* resp) override {
    return RunOnWorkers(ctx, d_.runtime, [this, req, resp](const std::string&) -> absl::Status {
      std::vector<EventIngestor::Notification> notifications;
      notifications.reserve(req->notifications_size());
      for (const pb::IngestNotificationRequest& n : req->notifications()) {
        notifications.push_back({n.authorization(), n.content_type(), n.body()});
      }
      PORTUNUS_ASSIGN_OR_RETURN(auto results, d_.ingestor.IngestMany(notifications));
      for (const absl::StatusOr<IngestCounts>& r : results) {
        pb::IngestNotificationResult* out = resp->add_results();
        if (!r.ok()) {
          out->set_code(static_cast<int32_t>(r.status().code()));
          out->set_message(std::string(r.status().message()));
          continue;
        }
        ToProto(*r, out->mutable_counts());
      }
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* ctx,
                                       const pb::ListEventsRequest* req,
                                       pb::ListEventsResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(CatalogApi::RequirePrivileged(c));
      PORTUNUS_ASSIGN_OR_RETURN(PageRequest page, FromProto(req->page()));
      EventFilter filter;
      for (int s : req->statuses()) {
        switch (s) {
          case pb::Event::PENDING:
            filter.statuses.push_back(EventStatus::kPending);
            break;
          case pb::Event::DONE:
            filter.statuses.push_back(EventStatus::kDone);
            break;
          case pb::Event::FAILED:
            filter.statuses.push_back(EventStatus::kFailed);
            break;
          case pb::Event::REJECTED:
            filter.statuses.push_back(EventStatus::kRejected);
            break;
          default:
            return InvalidFieldError("statuses", "must be pending, done, failed or rejected");
        }
      }
      filter.repository = req->repository();
      PORTUNUS_ASSIGN_OR_RETURN(auto events, d_.events.List(filter, page));
      for (const StoredEvent& e : events.first) ToProto(e, resp->add_events());
      ToProto(page, events.second, resp->mutable_page());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* RetryEvent(grpc::CallbackServerContext* ctx,
                                       const pb::RetryEventRequest* req, pb::Event* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(CatalogApi::RequirePrivileged(c));
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->id(), "id"));
      PORTUNUS_ASSIGN_OR_RETURN(StoredEvent e, d_.events.Retry(req->id(), d_.clock.Now()));
      ToProto(e, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetEventStats(grpc::CallbackServerContext* ctx,
                                          const pb::GetEventStatsRequest*,
                                          pb::EventStats* resp) override {
    return WithCaller(ctx, d_, [this, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(CatalogApi::RequirePrivileged(c));
      const absl::Time now = d_.clock.Now();
      PORTUNUS_ASSIGN_OR_RETURN(EventQueueStats st, d_.events.Stats(now));
      resp->set_pending(st.pending);
      resp->set_ready(st.ready);
      resp->set_oldest_pending_age_seconds(
          st.oldest_pending_received == absl::InfinitePast()
              ? 0
              : std::max(0.0, absl::ToDoubleSeconds(now - st.oldest_pending_received)));
      resp->set_failed(st.failed);
      resp->set_rejected(st.rejected);
      resp->set_processed_total(d_.processor.processed_total());
      resp->set_failures_total(d_.processor.failures_total());
      return absl::OkStatus();
    });
  }

 private:
  CatalogTransportDeps d_;
};

// ----- SyncService -----

class SyncGrpcService final : public pb::SyncService::CallbackService {
 public:
  explicit SyncGrpcService(CatalogTransportDeps deps) : d_(deps) {}

  grpc::ServerUnaryReactor* StartSync(grpc::CallbackServerContext* ctx,
                                      const pb::StartSyncRequest* req, pb::SyncRun* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(CatalogApi::RequirePrivileged(c));
      PORTUNUS_ASSIGN_OR_RETURN(SyncReport r, d_.sync.StartPass("api", req->dry_run(), req->force()));
      ToProto(r, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetSyncRun(grpc::CallbackServerContext* ctx,
                                       const pb::GetSyncRunRequest* req, pb::SyncRun* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(CatalogApi::RequirePrivileged(c));
      PORTUNUS_RETURN_IF_ERROR(RequireId(req->id(), "id"));
      PORTUNUS_ASSIGN_OR_RETURN(SyncReport r, d_.sync.Get(req->id()));
      ToProto(r, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListSyncRuns(grpc::CallbackServerContext* ctx,
                                         const pb::ListSyncRunsRequest* req,
                                         pb::ListSyncRunsResponse* resp) override {
    return WithCaller(ctx, d_, [this, req, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(CatalogApi::RequirePrivileged(c));
      if (req->limit() < 0 || req->limit() > 100) {
        return InvalidFieldError("limit", "must be between 1 and 100");
      }
      PORTUNUS_ASSIGN_OR_RETURN(std::vector<SyncReport> runs,
                                d_.sync.List(req->limit() == 0 ? 20 : req->limit()));
      for (const SyncReport& r : runs) ToProto(r, resp->add_runs());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetSyncStatus(grpc::CallbackServerContext* ctx,
                                          const pb::GetSyncStatusRequest*,
                                          pb::SyncStatus* resp) override {
    return WithCaller(ctx, d_, [this, resp](const Caller& c) -> absl::Status {
      PORTUNUS_RETURN_IF_ERROR(CatalogApi::RequirePrivileged(c));
      PORTUNUS_ASSIGN_OR_RETURN(SyncStatusInfo st, d_.sync.Status());
      resp->set_brake_engaged(st.brake_engaged);
      resp->set_brake_reason(st.brake_reason);
      if (st.last_run.has_value()) ToProto(*st.last_run, resp->mutable_last_run());
      resp->set_running(st.running);
      resp->set_strategy(st.strategy);
      resp->set_interval(st.interval == absl::ZeroDuration() ? "" : absl::FormatDuration(st.interval));
      resp->set_enabled(st.enabled);
      return absl::OkStatus();
    });
  }

 private:
  CatalogTransportDeps d_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeCatalogGrpcService(CatalogTransportDeps deps) {
  return std::make_unique<CatalogGrpcService>(deps);
}
std::unique_ptr<grpc::Service> MakeEventGrpcService(CatalogTransportDeps deps) {
  return std::make_unique<EventGrpcService>(deps);
}
std::unique_ptr<grpc::Service> MakeSyncGrpcService(CatalogTransportDeps deps) {
  return std::make_unique<SyncGrpcService>(deps);
}

}  // namespace portunus::catalog
