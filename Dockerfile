# syntax=docker/dockerfile:1
# The Portunus image used by the Helm chart (deploy/helm/portunus): every binary
# (portunus-auth, -catalog, -scanner, -health, -gateway and portunusctl) on Debian 12 with only
# their runtime libraries, run as the non-root user `portunus` (uid/gid 10001). The chart runs
# one Deployment per service binary and the migration Job with portunusctl.
#
#   docker build -t ghcr.io/portunus/portunus:0.1.0 .
#
# tests/helm_dockerfile_test.py keeps this file honest without a container engine: every file
# copied from the build stage must exist in a build, and the runtime packages below (with the
# packages apt pulls in for them and those of the base image) must provide every shared library
# `ldd` reports for the copied binaries.

# ---- build: the same two scripts a developer runs ----------------------------------------------
FROM debian:12-slim AS build
WORKDIR /src
# Dependencies first, so this layer is reused until scripts/install-deps changes.
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/*
COPY . .
RUN BUILD_TYPE=Release CMAKE_ARGS="-DPORTUNUS_BUILD_TESTS=OFF -DPORTUNUS_BUILD_BENCH=OFF" \
      scripts/build portunus-auth portunus-catalog portunus-scanner portunus-health \
        portunus-gateway portunusctl \
 && strip build/services/*/portunus-* build/cli/portunusctl

# ---- runtime: the binaries and their shared libraries only ----------------------------------
FROM debian:12-slim AS runtime
# The packages owning the libraries the binaries link against (apt adds their dependencies),
# and the CA certificates for HTTPS to the registry and vulnerability feeds.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libabsl20220623 \
      libarchive13 \
      libc-ares2 \
      libcivetweb1 \
      libcurl4 \
      libgrpc++1.51 \
      libgrpc29 \
      libpq5 \
      libpqxx-6.4 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libprotobuf32 \
      libre2-9 \
      librpm9 \
      librpmio9 \
      libsqlite3-0 \
      libssl3 \
      libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 portunus \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin portunus
COPY --from=build /src/build/services/auth/portunus-auth /usr/local/bin/portunus-auth
COPY --from=build /src/build/services/catalog/portunus-catalog /usr/local/bin/portunus-catalog
COPY --from=build /src/build/services/scanner/portunus-scanner /usr/local/bin/portunus-scanner
COPY --from=build /src/build/services/health/portunus-health /usr/local/bin/portunus-health
COPY --from=build /src/build/services/gateway/portunus-gateway /usr/local/bin/portunus-gateway
COPY --from=build /src/build/cli/portunusctl /usr/local/bin/portunusctl
# The configuration file the chart mounts; secrets come from PORTUNUS_<KEY>_FILE files.
ENV PORTUNUS_CONFIG=/etc/portunus/config/portunus.yaml
# gRPC auth, catalog, scanner, health; gateway HTTP; /metrics of each.
EXPOSE 50051 50052 50053 50054 8080 9091 9092 9093 9094 9095
USER 10001:10001
WORKDIR /tmp
CMD ["portunusctl", "--help"]
