// The catalog's gRPC transport: CatalogService, EventService and SyncService
// (proto/portunus/catalog/v1/*.proto). Each RPC authenticates the caller from the call metadata
// (except IngestNotification(s), authenticated by the webhook secret), converts the request,
// calls the domain once on the worker pool and maps the status (status_mapping.h). No SQL, no
// rules here.
#pragma once

#include <memory>

#include "services/catalog/catalog_api.h"
#include "services/catalog/event_ingestor.h"
#include "services/catalog/event_processor.h"
#include "services/catalog/sync_coordinator.h"
#include "services/common/service_runner.h"

namespace grpc {
class Service;
}

namespace portunus::catalog {

// Everything the transport calls into. All references must outlive the services.
struct CatalogTransportDeps {
  ServiceRuntime& runtime;
  CatalogApi& api;
  EventIngestor& ingestor;
  EventStore& events;
  EventProcessor& processor;
  SyncCoordinator& sync;
  const Clock& clock;
};

// The three services; the returned objects own nothing but their wiring.
std::unique_ptr<grpc::Service> MakeCatalogGrpcService(CatalogTransportDeps deps);
std::unique_ptr<grpc::Service> MakeEventGrpcService(CatalogTransportDeps deps);
std::unique_ptr<grpc::Service> MakeSyncGrpcService(CatalogTransportDeps deps);

}  // namespace portunus::catalog
