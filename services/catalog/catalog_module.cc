#include "services/catalog/catalog_module.h"

namespace portunus::catalog {
namespace {

class CatalogModule final : public ServiceModule {};

}  // namespace

void BindCatalogConfig(ConfigBinder* binder, CatalogConfig* /*config*/) { binder->OwnSection("catalog"); }

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& /*runtime*/,
                                                            const CatalogConfig& /*config*/) {
  return std::make_unique<CatalogModule>();
}

}  // namespace portunus::catalog
