#!/usr/bin/python3
"""Proves other languages can use Portunus's gRPC APIs (issue 6): generates Python stubs from
proto/ (with python3-grpc-tools when its protoc is new enough, else with Debian's protoc and
gRPC Python plugin, see make_compiler), then, with python3-grpcio, calls on every service
grpc.health.v1 Check and Watch, server reflection (listing the services and resolving one of
them), and one real method of the service's own API.

Run by tests/health_grpc_python_test.cc with /usr/bin/python3 (the first python3 on PATH may be
a pyenv one without grpcio):

    health_grpc_clients.py --proto-dir proto --work-dir DIR --internal-secret S \
        --service auth=127.0.0.1:50051 --service health=127.0.0.1:50054 ...

Prints one line per check and exits 0 when all passed, 1 otherwise.
"""

import argparse
import base64
import glob
import importlib
import os
import sys

# The standard reflection protocol (grpc/grpc-proto, grpc/reflection/v1alpha/reflection.proto),
# trimmed to what this script uses; field numbers and names are the wire contract. Written to the
# work dir and compiled like the project's protos (Debian ships no grpcio-reflection).
REFLECTION_PROTO = """
syntax = "proto3";
package grpc.reflection.v1alpha;
service ServerReflection {
  rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse);
}
message ServerReflectionRequest {
  string host = 1;
  oneof message_request {
    string file_by_filename = 3;
    string file_containing_symbol = 4;
    string list_services = 7;
  }
}
message ServerReflectionResponse {
  string valid_host = 1;
  ServerReflectionRequest original_request = 2;
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ListServiceResponse list_services_response = 6;
    ErrorResponse error_response = 7;
  }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse { int32 error_code = 1; string error_message = 2; }
"""

# The API service each Portunus service must list in reflection, when its proto exists.
OWN_SERVICES = {
    "auth": "portunus.auth.v1.AccessService",
    "catalog": "portunus.catalog.v1.CatalogService",
    "scanner": "portunus.scanner.v1.ScannerService",
    "health": "portunus.health.v1.HealthService",
}


# Debian 12's python3-grpc-tools (1.14) bundles protoc 3.5.1, which predates proto3 `optional`
# fields (protoc 3.15) that Portunus's protos use. It is used when new enough; otherwise the
# same generators run as Debian's protoc (protobuf-compiler, matching python3-protobuf) with
# the gRPC Python plugin (protobuf-compiler-grpc, matching python3-grpcio).
SYSTEM_PROTOC = "/usr/bin/protoc"
SYSTEM_GRPC_PLUGIN = "/usr/bin/grpc_python_plugin"


def grpc_tools_protoc_version():
    """(major, minor) of the protoc bundled with grpc_tools, or None without grpc_tools."""
    try:
        from grpc_tools import protoc
    except ImportError:
        return None
    import re
    # protoc prints its version on the process's stdout (C++), not Python's: read it from a
    # child so nothing leaks into this script's output.
    import subprocess
    out = subprocess.run(
        [sys.executable, "-c", "from grpc_tools import protoc; protoc.main(['protoc', '--version'])"],
        capture_output=True, text=True, check=False).stdout
    m = re.search(r"(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def make_compiler():
    """Returns (name, compile(include_dirs, files, out) -> exit code)."""
    import subprocess
    version = grpc_tools_protoc_version()
    if version is not None and version >= (3, 15):
        from grpc_tools import protoc
        well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")

        def run_grpc_tools(includes, files, out):
            return protoc.main(["protoc"] + ["-I" + d for d in includes + [well_known]] +
                               ["--python_out=" + out, "--grpc_python_out=" + out] + files)

        return "grpc_tools (protoc %d.%d)" % version, run_grpc_tools

    def run_system(includes, files, out):
        extra = ["/usr/include"] if os.path.isdir("/usr/include/google/protobuf") else []
        return subprocess.run(
            [SYSTEM_PROTOC] + ["-I" + d for d in includes + extra] +
            ["--plugin=protoc-gen-grpc_python=" + SYSTEM_GRPC_PLUGIN, "--python_out=" + out,
             "--grpc_python_out=" + out] + files, check=False).returncode

    why = ("grpc_tools' protoc %d.%d has no proto3 optional" % version if version
           else "no grpc_tools")
    return "%s + %s (%s)" % (SYSTEM_PROTOC, SYSTEM_GRPC_PLUGIN, why), run_system


def generate(proto_dir, work_dir):
    """Compiles every Portunus .proto under proto_dir, the vendored health proto and the
    reflection proto into work_dir; returns the Portunus proto paths."""
    out = os.path.join(work_dir, "gen")
    os.makedirs(out, exist_ok=True)
    refl_dir = os.path.join(work_dir, "refl")
    os.makedirs(refl_dir, exist_ok=True)
    with open(os.path.join(refl_dir, "reflection.proto"), "w") as f:
        f.write(REFLECTION_PROTO)
    protos = sorted(
        os.path.relpath(p, proto_dir)
        for p in glob.glob(os.path.join(proto_dir, "portunus", "**", "*.proto"), recursive=True))
    name, compile_protos = make_compiler()
    print("stubs generated with %s" % name)
    # The grpc.* protos are compiled from their own directory, so their modules are top-level
    # (health_pb2, reflection_pb2) and cannot collide with the installed `grpc` package; their
    # proto packages, and so the service names on the wire, are unchanged.
    jobs = ((proto_dir, protos),
            (os.path.join(proto_dir, "grpc", "health", "v1"), ["health.proto"]),
            (refl_dir, ["reflection.proto"]))
    for include, files in jobs:
        if compile_protos([include], files, out) != 0:
            raise SystemExit("protoc failed for %s" % files)
    sys.path.insert(0, out)  # namespace packages: no __init__.py needed
    return protos


def module(proto_file, suffix):
    return importlib.import_module(proto_file[:-len(".proto")].replace("/", ".") + suffix)


class Checker:
    def __init__(self):
        self.failures = 0

    def check(self, name, fn):
        try:
            detail = fn()
            print("ok    %s%s" % (name, (": " + detail) if detail else ""))
        except Exception as e:  # report every failure, keep going
            self.failures += 1
            print("FAIL  %s: %s" % (name, e))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--internal-secret", required=True)
    parser.add_argument("--service", action="append", default=[], help="name=host:port")
    args = parser.parse_args()

    protos = generate(args.proto_dir, args.work_dir)
    import grpc

    health_pb2 = module("health.proto", "_pb2")
    health_grpc = module("health.proto", "_pb2_grpc")
    refl_pb2 = module("reflection.proto", "_pb2")
    refl_grpc = module("reflection.proto", "_pb2_grpc")
    internal = [("authorization", "Basic " + base64.b64encode(
        ("portunus:" + args.internal_secret).encode()).decode())]
    serving = health_pb2.HealthCheckResponse.SERVING
    c = Checker()

    for spec in args.service:
        name, address = spec.split("=", 1)
        channel = grpc.insecure_channel(address)
        try:
            grpc.channel_ready_future(channel).result(timeout=10)
        except grpc.FutureTimeoutError:
            c.failures += 1
            print("FAIL  %s: cannot connect to %s" % (name, address))
            continue
        health = health_grpc.HealthStub(channel)

        def check_health(health=health):
            r = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert r.status == serving, "status %s" % r.status
            return "SERVING"

        def watch_health(health=health):
            stream = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
            first = next(stream)
            stream.cancel()
            assert first.status == serving, "first status %s" % first.status
            return "SERVING"

        def reflection(channel=channel, name=name):
            stub = refl_grpc.ServerReflectionStub(channel)
            requests = [refl_pb2.ServerReflectionRequest(list_services="")]
            own = OWN_SERVICES.get(name)
            if own and any(p.startswith("portunus/%s/" % name) for p in protos):
                requests.append(refl_pb2.ServerReflectionRequest(file_containing_symbol=own))
            else:
                own = None
            responses = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
            listed = [s.name for s in responses[0].list_services_response.service]
            assert "grpc.health.v1.Health" in listed, "services: %s" % listed
            if own:
                assert own in listed, "%s not in %s" % (own, listed)
                files = responses[1].file_descriptor_response.file_descriptor_proto
                assert files, "no descriptor for %s: %s" % (own, responses[1])
            return ", ".join(sorted(listed))

        c.check("%s grpc.health.v1 Check" % name, check_health)
        c.check("%s grpc.health.v1 Watch" % name, watch_health)
        c.check("%s server reflection" % name, reflection)

        # One real method of the service's own API.
        if name == "health":
            hs = module("portunus/health/v1/health_service.proto", "_pb2")
            hs_grpc = module("portunus/health/v1/health_service.proto", "_pb2_grpc")
            stub = hs_grpc.HealthServiceStub(channel)

            def get_health(stub=stub, hs=hs):
                r = stub.GetHealth(hs.GetHealthRequest(), timeout=5)
                names = [comp.name for comp in r.components]
                assert "database" in names, "components: %s" % names
                db = [comp for comp in r.components if comp.name == "database"][0]
                assert db.msg == "database is up-to-date", db.msg
                return "components %s" % names

            def cluster_status(stub=stub, hs=hs):
                r = stub.GetClusterStatus(hs.GetClusterStatusRequest(), metadata=internal, timeout=5)
                services = sorted({rep.service for rep in r.replicas})
                assert "health" in services, "replicas: %s" % r
                try:
                    stub.GetClusterStatus(hs.GetClusterStatusRequest(), timeout=5)
                    raise AssertionError("anonymous cluster status was allowed")
                except grpc.RpcError as e:
                    assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e
                return "replicas of %s" % services

            c.check("health HealthService.GetHealth", get_health)
            c.check("health HealthService.GetClusterStatus", cluster_status)
        elif name == "auth":
            ac = module("portunus/auth/v1/access.proto", "_pb2")
            ac_grpc = module("portunus/auth/v1/access.proto", "_pb2_grpc")
            pr = module("portunus/auth/v1/principal.proto", "_pb2")
            stub = ac_grpc.AccessServiceStub(channel)

            def authenticate(stub=stub, ac=ac, pr=pr):
                creds = ac.Credentials(username_secret=ac.UsernameSecret(
                    username="portunus", secret=args.internal_secret))
                r = stub.Authenticate(ac.AuthenticateRequest(credentials=creds), timeout=5)
                assert r.principal.kind == pr.Principal.INTERNAL, "principal %s" % r.principal
                anonymous = stub.Authenticate(ac.AuthenticateRequest(), timeout=5)
                assert anonymous.principal.kind == pr.Principal.ANONYMOUS, anonymous
                try:
                    bad = ac.Credentials(username_secret=ac.UsernameSecret(
                        username="portunus", secret="not-the-secret"))
                    stub.Authenticate(ac.AuthenticateRequest(credentials=bad), timeout=5)
                    raise AssertionError("a wrong internal secret was accepted")
                except grpc.RpcError as e:
                    assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e
                return "internal principal %r, anonymous, wrong secret refused" % r.principal.name

            c.check("auth AccessService.Authenticate", authenticate)
        elif name == "catalog" and "portunus/catalog/v1/sync.proto" in protos:
            sy = module("portunus/catalog/v1/sync.proto", "_pb2")
            sy_grpc = module("portunus/catalog/v1/sync.proto", "_pb2_grpc")
            stub = sy_grpc.SyncServiceStub(channel)

            def sync_status(stub=stub, sy=sy):
                r = stub.GetSyncStatus(sy.GetSyncStatusRequest(), metadata=internal, timeout=5)
                return "brake engaged: %s" % r.brake_engaged

            c.check("catalog SyncService.GetSyncStatus", sync_status)
        elif name == "scanner":
            sc = module("portunus/scanner/v1/scanner.proto", "_pb2")
            sc_grpc = module("portunus/scanner/v1/scanner.proto", "_pb2_grpc")
            stub = sc_grpc.VulnDbServiceStub(channel)

            def vulndb_status(stub=stub, sc=sc):
                r = stub.GetVulnDbStatus(sc.GetVulnDbStatusRequest(), timeout=5)
                return "generation %d, %d sources" % (r.generation, len(r.sources))

            c.check("scanner VulnDbService.GetVulnDbStatus", vulndb_status)
        channel.close()

    print("%d failure(s)" % c.failures)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
