#!/usr/bin/python3
"""grpc_health_check.py: grpc.health.v1.Health/Check from Python, as a second-language client.

Generates the Python stubs from the vendored proto/grpc/health/v1/health.proto at run time
(python3 -m grpc_tools.protoc), then checks each ADDRESS[=SERVICE]. Prints
"ADDRESS SERVICE STATUS" per target; exits 0 when every target is SERVING, 1 otherwise, 2 when
the stubs cannot be generated.

Usage: /usr/bin/python3 grpc_health_check.py --proto PATH/health.proto --out STUB_DIR \
           [--timeout 5] ADDRESS[=SERVICE] ...
"""
import argparse
import os
import subprocess
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proto", required=True, help="path of grpc/health/v1/health.proto")
    p.add_argument("--out", required=True, help="directory for the generated stubs")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("targets", nargs="+")
    args = p.parse_args()

    os.makedirs(args.out, exist_ok=True)
    # The proto's own directory as the include root: the stubs become top-level modules
    # (health_pb2, health_pb2_grpc) and cannot collide with the installed `grpc` package.
    # The proto package (grpc.health.v1) and so the service name are unchanged.
    proto_dir = os.path.dirname(os.path.abspath(args.proto))
    gen = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", proto_dir,
                          "--python_out=" + args.out, "--grpc_python_out=" + args.out,
                          os.path.abspath(args.proto)], capture_output=True, text=True)
    if gen.returncode != 0:
        print("grpc_tools.protoc failed: %s" % gen.stderr, file=sys.stderr)
        return 2
    sys.path.insert(0, args.out)
    import grpc
    import health_pb2
    import health_pb2_grpc

    all_serving = True
    for target in args.targets:
        address, _, service = target.partition("=")
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                resp = stub.Check(health_pb2.HealthCheckRequest(service=service),
                                  timeout=args.timeout)
                status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
            except grpc.RpcError as e:
                status = "RPC_ERROR:" + e.code().name
        print("%s %s %s" % (address, service or "-", status), flush=True)
        all_serving = all_serving and status == "SERVING"
    return 0 if all_serving else 1


if __name__ == "__main__":
    sys.exit(main())
