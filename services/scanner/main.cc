// portunus-scanner: see scanner_module.h. Everything but wiring lives in scanner_lib.
#include "services/common/service_runner.h"
#include "services/scanner/scanner_module.h"
#include "services/scanner/migrations.h"

int main(int argc, char** argv) {
  portunus::scanner::ScannerConfig config;
  portunus::ServiceSpec spec;
  spec.name = "scanner";
  spec.migrations = &portunus::scanner::Migrations();
  spec.endpoint = &portunus::CommonConfig::scanner;
  spec.bind = [&config](portunus::ConfigBinder* b) { portunus::scanner::BindScannerConfig(b, &config); };
  spec.create = [&config](portunus::ServiceRuntime& rt) {
    return portunus::scanner::CreateModule(rt, config);
  };
  return portunus::RunService(spec, argc, argv);
}
