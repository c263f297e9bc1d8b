#!/usr/bin/python3
"""Checks of the Helm chart deploy/helm/portunus (ctest label `helm`, tests/helm_tests.cmake).

Every check renders the chart with the real helm for each case: the chart's defaults and every
deploy/helm/portunus/ci/*-values.yaml. Subcommands:

  chart-check  ../shared/tools/chart-check: helm lint --strict, helm template, Kubernetes 1.33
               schemas with unknown-field detection, yamllint. Exit 77 (skipped) when the tool
               is not on this machine; `render` below still lints and templates every case.
  render       helm lint --strict + helm template, and what the issue asks of the objects:
               hardened pods, probes (native gRPC / HTTP), named ports, Services matching the
               addresses in the configuration, PDBs/HPAs, the migration hook.
  config       the rendered configuration, run through `portunusctl config check` and each
               service binary's --check-config with exactly the env and files its pod gets
               (secrets included), so the chart and the binaries cannot drift; every
               PORTUNUS_* variable the chart sets must be a key the binaries know.
  registry     the registry wiring, run for real: docker-registry started with the rendered
               configuration (bundled) or env entries (user-run registry); a token signed with
               the chart's generated key is accepted, a push reaches a webhook receiver with the
               chart's webhook secret.
  negative     a missing required value and schema violations fail with clear messages.
  upgrade      generated secrets and keys are kept on upgrade (the chart's `lookup`s answered
               from values in a copy of the chart), hand-added keys join the registry's bundle.
  values       every value in values.yaml is typed in values.schema.json and documented in the
               chart's README.md.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import yaml

SKIP = 77
RELEASE = "rel"
NAMESPACE = "portunus-test"
COMPONENTS = ["auth", "catalog", "scanner", "health", "gateway"]


class Failures:
    def __init__(self):
        self.items = []

    def check(self, ok, what):
        if not ok:
            self.items.append(what)
            print("  FAIL " + what)
        return ok

    def finish(self, name):
        if self.items:
            print("%s: %d failure(s)" % (name, len(self.items)))
            return 1
        print("%s: all checks passed" % name)
        return 0


class Chart:
    def __init__(self, helm, chart_dir):
        self.helm = helm
        self.dir = os.path.abspath(chart_dir)

    def cases(self):
        cases = [("defaults", [])]
        for path in sorted(
                p for p in os.listdir(os.path.join(self.dir, "ci")) if p.endswith("-values.yaml")):
            cases.append(("ci-" + path[:-len("-values.yaml")], ["-f", os.path.join(self.dir, "ci", path)]))
        return cases

    def run(self, args):
        return subprocess.run([self.helm] + args, capture_output=True, text=True)

    def render(self, args):
        r = self.run(["template", RELEASE, self.dir, "--namespace", NAMESPACE, "--include-crds"] + args)
        if r.returncode != 0:
            raise RuntimeError("helm template %s failed:\n%s" % (" ".join(args), r.stderr))
        values = yaml.safe_load(open(os.path.join(self.dir, "values.yaml")))
        for i, a in enumerate(args[:-1]):
            if a == "-f":
                values.update(yaml.safe_load(open(args[i + 1])) or {})
        return Rendered([d for d in yaml.safe_load_all(r.stdout) if d], values)


class Rendered:
    def __init__(self, docs, values):
        self.docs = docs
        self.domain = values["clusterDomain"]
        self.listen_host = values["listenHost"]
        config = [d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["labels"].get("app.kubernetes.io/component") == "config"]
        self.fullname = config[0]["metadata"]["name"][:-len("-config")] if config else RELEASE + "-portunus"

    def name(self, suffix):
        """The name the chart gives an object: <fullname>-<suffix>."""
        return "%s-%s" % (self.fullname, suffix)

    def all(self, kind):
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind, name):
        for d in self.docs:
            if d["kind"] == kind and d["metadata"]["name"] == name:
                return d
        return None

    def secret_data(self, name):
        s = self.get("Secret", name)
        if s is None:
            return None
        return {k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()}

    def config(self):
        cm = self.get("ConfigMap", self.name("config"))
        return yaml.safe_load(cm["data"]["portunus.yaml"])

    def workloads(self):
        """(kind, name, component, pod spec) of every Deployment and Job."""
        out = []
        for d in self.docs:
            if d["kind"] in ("Deployment", "Job"):
                comp = d["metadata"]["labels"].get("app.kubernetes.io/component")
                out.append((d["kind"], d["metadata"]["name"], comp, d["spec"]["template"]["spec"], d))
        return out


def helm_path(args):
    return subprocess.run([args.get_helm], capture_output=True, text=True, check=True).stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(what, fn, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        time.sleep(0.05)


# ------------------------------------------------------------------------------ chart-check

def find_chart_check(source_dir):
    """$PORTUNUS_CHART_CHECK, else ../shared/tools/chart-check beside the checkout (or beside the
    directory of worktrees holding it)."""
    if os.environ.get("PORTUNUS_CHART_CHECK"):
        return [os.environ["PORTUNUS_CHART_CHECK"]]
    return [os.path.normpath(os.path.join(source_dir, up, "shared", "tools", "chart-check", "chart-check"))
            for up in ("..", os.path.join("..", ".."))]


def cmd_chart_check(args):
    candidates = find_chart_check(args.source_dir)
    tool = next((c for c in candidates if os.access(c, os.X_OK)), None)
    if tool is None:
        print("chart-check not found (looked for %s; set PORTUNUS_CHART_CHECK): the Kubernetes 1.33 "
              "schema validation is skipped; helm_render still lints and templates every case"
              % ", ".join(candidates))
        return SKIP
    failures = Failures()
    runs = [[tool, args.chart]]
    # The production-like case with the prometheus-operator API announced, as a cluster that has
    # the CRDs would (the chart renders the ServiceMonitor either way).
    prod = os.path.join(args.chart, "ci", "production-values.yaml")
    runs.append([tool, args.chart, "-f", prod, "-a", "monitoring.coreos.com/v1"])
    for run in runs:
        print("$ " + " ".join(run))
        r = subprocess.run(run, capture_output=True, text=True)
        print(r.stdout + r.stderr)
        failures.check(r.returncode == 0, "chart-check %s exited %d" % (" ".join(run[2:]), r.returncode))
        failures.check("PASS portunus" in r.stdout + r.stderr, "chart-check printed no PASS line")
    return failures.finish("helm_chart_check")


# ------------------------------------------------------------------------------ render

def effective(pod, container, key):
    c = (container.get("securityContext") or {}).get(key)
    return c if c is not None else (pod.get("securityContext") or {}).get(key)


def check_render_case(name, r, f):
    cfg = r.config()
    deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in r.all("Deployment")}
    services = {s["metadata"]["name"]: s for s in r.all("Service")}
    for kind, wname, comp, pod, obj in r.workloads():
        where = "%s %s/%s" % (name, kind, wname)
        f.check(effective(pod, {}, "runAsNonRoot") is True, where + ": pod runAsNonRoot")
        f.check((pod.get("securityContext") or {}).get("seccompProfile", {}).get("type") == "RuntimeDefault",
                where + ": seccompProfile RuntimeDefault")
        f.check(pod.get("automountServiceAccountToken") is False, where + ": no service account token")
        for c in pod["containers"]:
            sc = c.get("securityContext") or {}
            f.check(sc.get("readOnlyRootFilesystem") is True, where + ": read-only root filesystem")
            f.check(sc.get("allowPrivilegeEscalation") is False, where + ": no privilege escalation")
            f.check("ALL" in (sc.get("capabilities") or {}).get("drop", []), where + ": capabilities drop ALL")
            res = c.get("resources") or {}
            f.check(res.get("requests") and res.get("limits", {}).get("memory"), where + ": requests and a memory limit")
            f.check("--migrate" not in (c.get("args") or []) and "--migrate-only" not in (c.get("args") or []),
                    where + ": serving pods never migrate")
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            f.check("/tmp" in mounts, where + ": writable /tmp")
        if kind == "Job":
            ann = obj["metadata"].get("annotations", {})
            f.check(ann.get("helm.sh/hook") == "pre-install,pre-upgrade", where + ": pre-install,pre-upgrade hook")
            c = pod["containers"][0]
            f.check(c["command"] == ["portunusctl"] and "migrate" in c["args"], where + ": runs portunusctl migrate")
            hook_cm = r.get("ConfigMap", r.name("migrate"))
            f.check(hook_cm is not None and hook_cm["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10",
                    where + ": hook ConfigMap created before the Job")
            f.check(hook_cm and yaml.safe_load(hook_cm["data"]["portunus.yaml"]) == cfg,
                    where + ": hook ConfigMap holds the release's configuration")
            for vol in pod["volumes"]:
                for src in (vol.get("projected") or {}).get("sources", []):
                    sname = (src.get("secret") or {}).get("name")
                    if sname and sname.startswith(r.fullname + "-"):
                        f.check(sname == r.name("migrate"),
                                where + ": uses the hook's own Secret, not %s (absent during pre-install)" % sname)
        elif comp == "registry":
            pass
        else:
            check_component(name, comp, obj, pod, cfg, services, r, f)
    for comp in COMPONENTS:
        enabled = not (comp == "scanner" and "scanner" not in deployments)
        if enabled:
            f.check(comp in deployments, "%s: Deployment for %s" % (name, comp))
    for s in r.all("Service"):
        for p in s["spec"]["ports"]:
            f.check(p["name"] in ("grpc", "http", "https", "metrics"),
                    "%s Service %s: port named by protocol (%s)" % (name, s["metadata"]["name"], p["name"]))
    # The registry wiring.
    rcm = r.get("ConfigMap", r.name("registry"))
    reg = yaml.safe_load(rcm["data"]["config.yml"])
    f.check(reg["auth"]["token"]["realm"] == cfg["gateway"]["external_url"] + "/v2/token",
            name + ": registry realm = gateway external URL + /v2/token")
    f.check(reg["auth"]["token"]["service"] == cfg["registry"]["service"], name + ": registry service = registry.service")
    f.check(reg["auth"]["token"]["issuer"] == cfg["auth"]["token"]["issuer"], name + ": registry issuer = auth.token.issuer")
    endpoints = json.loads(rcm["data"]["notifications-endpoints.json"])
    f.check(endpoints[0]["headers"]["Authorization"] == ["Bearer $(PORTUNUS_WEBHOOK_SECRET)"],
            name + ": webhook secret header from the env")
    url = endpoints[0]["url"]
    if re.match(r"^https?://%s\." % re.escape(r.name("gateway")), url):
        host = url.split("/")[2]
        svc = services.get(r.name("gateway"))
        f.check(host.split(":")[0] == "%s.%s.svc.%s" % (r.name("gateway"), NAMESPACE, r.domain),
                name + ": webhook URL names the gateway Service")
        port = int(host.split(":")[1]) if ":" in host else (443 if url.startswith("https") else 80)
        f.check(svc and any(p["port"] == port for p in svc["spec"]["ports"]), name + ": webhook URL port is the gateway Service's")
    f.check(url.endswith("/v2/webhooks/events"), name + ": webhook path /v2/webhooks/events")
    keys = r.secret_data(r.name("token-keys"))
    if keys is not None:
        f.check(rcm["data"].get("bundle.crt", "").strip() == keys["bundle.crt"].strip(),
                name + ": registry ConfigMap bundle.crt = the signing certificates")
        active = keys["active"].strip()
        f.check(active + ".key" in keys and keys[active + ".crt"].strip() in keys["bundle.crt"],
                name + ": the active key and its certificate are in the key directory and the bundle")
    secrets = r.secret_data(r.name("secrets")) or {}
    if "internal-secret" in secrets:
        f.check(len(secrets["internal-secret"]) >= 32, name + ": generated internal secret has at least 32 characters")
    # ServiceMonitor selects the Services with a metrics port.
    for sm in r.all("ServiceMonitor"):
        sel = sm["spec"]["selector"]
        wanted = set(sel["matchExpressions"][0]["values"])
        picked = set()
        for s in r.all("Service"):
            labels = s["metadata"]["labels"]
            if all(labels.get(k) == v for k, v in sel["matchLabels"].items()) and \
                    labels.get("app.kubernetes.io/component") in wanted:
                picked.add(labels["app.kubernetes.io/component"])
                f.check(any(p["name"] == "metrics" for p in s["spec"]["ports"]),
                        "%s: ServiceMonitor target %s has a metrics port" % (name, s["metadata"]["name"]))
        f.check(picked == wanted, "%s: ServiceMonitor selects %s (got %s)" % (name, sorted(wanted), sorted(picked)))


def check_component(case, comp, dep, pod, cfg, services, r, f):
    where = "%s Deployment %s" % (case, dep["metadata"]["name"])
    c = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    f.check(c["command"] == ["portunus-" + comp], where + ": runs portunus-" + comp)
    f.check(c["args"] == ["--config", "/etc/portunus/config/portunus.yaml"], where + ": --config from the ConfigMap")
    section = cfg[comp]
    f.check(section["metrics_listen"] == "%s:%d" % (r.listen_host, ports["metrics"]), where + ": metrics_listen = metrics port")
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    if ann.get("prometheus.io/scrape"):
        f.check(ann.get("prometheus.io/port") == str(ports["metrics"]), where + ": prometheus.io/port = metrics port")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        f.check(probe in c, where + ": has " + probe)
    if comp == "gateway":
        main = "https" if "https" in ports else "http"
        f.check(section["listen"] == "%s:%d" % (r.listen_host, ports[main]), where + ": listen = http port")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            f.check(c[probe].get("httpGet", {}).get("port") == main, where + ": HTTP " + probe)
        f.check(c["livenessProbe"]["httpGet"]["path"] == "/api/v1/_ping", where + ": liveness /api/v1/_ping")
    else:
        f.check(section["listen"] == "%s:%d" % (r.listen_host, ports["grpc"]), where + ": listen = grpc port")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            f.check(c[probe].get("grpc", {}).get("port") == ports["grpc"], where + ": native gRPC " + probe)
        for probe in ("startupProbe", "readinessProbe"):
            f.check(c[probe]["grpc"].get("service", "") == "", where + ": %s asks for the server's readiness" % probe)
        f.check(c["livenessProbe"]["grpc"].get("service") == r.liveness_service,
                where + ": livenessProbe asks for the service name the binaries keep SERVING (%r)" % r.liveness_service)
        svc_name = dep["metadata"]["name"]
        svc = services.get(svc_name)
        f.check(svc is not None, where + ": has a Service")
        if svc:
            sport = [p for p in svc["spec"]["ports"] if p["name"] == "grpc"][0]
            f.check(section["address"] == "%s.%s.svc.%s:%d" % (svc_name, NAMESPACE, r.domain, sport["port"]),
                    where + ": %s.address is its Service's DNS name and port" % comp)
            f.check(sport["targetPort"] == "grpc", where + ": Service targets the grpc port")
    if comp == "auth":
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        f.check(section["token"]["keys_dir"] in mounts, where + ": the signing key Secret is mounted at auth.token.keys_dir")
    hpa = r.get("HorizontalPodAutoscaler", dep["metadata"]["name"])
    if hpa:
        f.check("replicas" not in dep["spec"], where + ": no replicas while autoscaled")
        f.check(hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"], where + ": HPA targets it")
    f.check(dep["spec"]["strategy"]["type"] == "RollingUpdate", where + ": rolling updates")
    f.check(r.get("PodDisruptionBudget", dep["metadata"]["name"]) is not None, where + ": has a PodDisruptionBudget")


def check_notes(chart, name, values, r, ctl, f):
    """NOTES.txt (helm template does not render it): the URLs, the bootstrap command, the
    registry configuration to apply. The bootstrap commands it prints are run with the real
    portunusctl against a closed port: they must get as far as connecting (no usage error)."""
    res = chart.run(["install", RELEASE, chart.dir, "--namespace", NAMESPACE, "--dry-run=client"] + values)
    notes = res.stdout.split("NOTES:", 1)[-1] if res.returncode == 0 else ""
    if not f.check(notes, "%s: helm install --dry-run=client failed: %s" % (name, res.stderr)):
        return
    cfg = r.config()
    wants = [cfg["gateway"]["external_url"] + "/v2/token", cfg["gateway"]["external_url"] + "/api/v1/health",
             "portunusctl --server " + cfg["gateway"]["external_url"] + " bootstrap "]
    if r.get("Deployment", r.name("registry")) is None:
        wants += ["{.data.env\\.yaml}", "bundle.crt", "notifications:",
                  cfg["registry"]["url"], "realm: " + cfg["gateway"]["external_url"] + "/v2/token"]
    for want in wants:
        f.check(want in notes, "%s: NOTES.txt mentions %s" % (name, want))
    commands = re.findall(r"portunusctl --server (\S+) (bootstrap [^\n<]*--password-stdin)", notes)
    tls = "tls" in cfg["gateway"]
    f.check(len(commands) == (1 if tls else 2), "%s: NOTES.txt gives %d bootstrap command(s): %s"
            % (name, len(commands), commands))
    if not tls and commands:
        host = "[::1]" if r.listen_host.startswith("[") else "127.0.0.1"
        f.check(commands[0][0] == "http://%s:%s" % (host, cfg["gateway"]["listen"].rsplit(":", 1)[1]),
                "%s: the in-pod bootstrap command dials the gateway's listen port (%s)" % (name, commands[0][0]))
    usage = subprocess.run([ctl, "--help"], capture_output=True, text=True)
    if not re.search(r"^\s+bootstrap ", usage.stdout + usage.stderr, re.M):
        print("  note %s: this portunusctl has no bootstrap command; the notes' commands are not run" % name)
        return
    for server, command in commands:
        closed = "http://127.0.0.1:%d" % free_port()
        run = subprocess.run([ctl, "--server", closed] + command.split(), input="choose-a-long-password\n",
                             capture_output=True, text=True, timeout=60)
        out = (run.stdout + run.stderr).strip()
        f.check(run.returncode != 2 and "usage:" not in out and "cannot reach" in out,
                "%s: the notes' `portunusctl --server %s %s` does not parse: rc=%d %s"
                % (name, server, command, run.returncode, out))


def check_config_precedence(chart, f):
    """`config` < `<service>.config` < the chart's wiring."""
    r = chart.render(["--set", "config.delete.enabled=true", "--set", "config.auth.listen=10.9.9.9:1",
                      "--set", "config.auth.lockout.max_attempts=3", "--set", "auth.config.lockout.max_attempts=7",
                      "--set", "config.scanner.workers=5", "--set", "config.db.host=elsewhere"])
    cfg = r.config()
    before = len(f.items)
    f.check(cfg["delete"]["enabled"] is True, "precedence: config.delete.enabled reaches the configuration")
    f.check(cfg["scanner"]["workers"] == 5, "precedence: config.scanner.workers reaches the configuration")
    f.check(cfg["auth"]["lockout"]["max_attempts"] == 7, "precedence: auth.config wins over config")
    f.check(cfg["auth"]["listen"] == "%s:50051" % r.listen_host, "precedence: the chart's auth.listen wins over config")
    f.check(cfg["db"]["host"] == "postgresql", "precedence: database.host wins over config.db.host")
    if len(f.items) == before:
        print("  ok   config < <service>.config < the chart's wiring")


def liveness_service(source_dir):
    """The grpc.health.v1 name the binaries keep SERVING while they run (service_runner.h)."""
    header = open(os.path.join(source_dir, "services", "common", "service_runner.h")).read()
    m = re.search(r'kGrpcLivenessService\[\] = "([^"]+)"', header)
    return m.group(1) if m else None


def cmd_render(args):
    chart = Chart(helm_path(args), args.chart)
    ctl = binary_for(args.build_dir, "portunusctl")
    liveness = liveness_service(args.source_dir)
    f = Failures()
    f.check(liveness, "services/common/service_runner.h defines kGrpcLivenessService")
    for name, values in chart.cases():
        print("== " + name)
        lint = chart.run(["lint", "--strict", chart.dir] + values)
        f.check(lint.returncode == 0, "%s: helm lint --strict\n%s%s" % (name, lint.stdout, lint.stderr))
        try:
            r = chart.render(values)
        except RuntimeError as e:
            f.check(False, "%s: %s" % (name, e))
            continue
        before = len(f.items)
        r.liveness_service = liveness
        check_render_case(name, r, f)
        check_notes(chart, name, values, r, ctl, f)
        if len(f.items) == before:
            print("  ok   %d objects" % len(r.docs))
    print("== precedence of the configuration values")
    check_config_precedence(chart, f)
    return f.finish("helm_render")


# ------------------------------------------------------------------------------ config

def known_env_names(portunusctl):
    ref = subprocess.run([portunusctl, "config", "reference"], capture_output=True, text=True, check=True).stdout
    names = set(re.findall(r"\bPORTUNUS_[A-Z0-9_]+\b", ref))
    names.add("PORTUNUS_CONFIG")
    return names


REFERENCE_ROW = re.compile(r"^\| `([a-z0-9_]+(?:\.[a-z0-9_]+)+)` \|", re.M)


def reference_keys(portunusctl, source_dir):
    """The configuration keys of `portunusctl config reference` and of docs/configuration.md."""
    ref = subprocess.run([portunusctl, "config", "reference"], capture_output=True, text=True, check=True).stdout
    docs = open(os.path.join(source_dir, "docs", "configuration.md")).read()
    return set(REFERENCE_ROW.findall(ref)), set(REFERENCE_ROW.findall(docs))


def make_signing_key_dir(directory):
    """Stands in for an existing token-keys Secret: one P-256 key, as `portunusctl keys` writes."""
    name = "20260101T000000Z-es256"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "30", "-subj", "/CN=existing-signer",
                    "-keyout", os.path.join(directory, name + ".key"),
                    "-out", os.path.join(directory, name + ".crt")], check=True, capture_output=True)
    with open(os.path.join(directory, "active"), "w") as fh:
        fh.write(name + "\n")
    with open(os.path.join(directory, name + ".crt")) as src, open(os.path.join(directory, "bundle.crt"), "w") as dst:
        dst.write(src.read())


class Pod:
    """Materializes a pod's volumes under a temp dir the way the kubelet would mount them, and its
    container's env, with mount paths rewritten to the local copies."""

    def __init__(self, rendered, pod, container, root):
        self.r = rendered
        self.root = root
        self.mounts = {}  # mountPath -> local path
        self.external = {}  # (secret, key) -> synthesized value of a Secret the chart does not render
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for m in container.get("volumeMounts", []):
            local = os.path.join(root, m["name"])
            os.makedirs(local, exist_ok=True)
            self.materialize(volumes[m["name"]], local)
            if m.get("subPath"):
                local = os.path.join(local, m["subPath"])
            self.mounts[m["mountPath"]] = local
        self.env = {}
        for e in container.get("env", []):
            if "value" in e:
                value = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: self.env.get(m.group(1), m.group(0)), e["value"])
            else:
                ref = e["valueFrom"].get("secretKeyRef") or e["valueFrom"].get("configMapKeyRef")
                value = self.lookup("Secret" if "secretKeyRef" in e["valueFrom"] else "ConfigMap", ref["name"], ref["key"])
            self.env[e["name"]] = self.local(value)
        self.args = [self.local(a) for a in container.get("args", [])]
        if "--config" in self.args:
            # The configuration names files by their paths in the pod: point them at the copies
            # (a textual replacement, so that the binary parses the file exactly as rendered).
            i = self.args.index("--config") + 1
            text = open(self.args[i]).read()
            paths = sorted(self.mounts, key=len, reverse=True)
            pattern = r"(?<![\w/.-])(%s)(?=[/\s\"']|$)" % "|".join(re.escape(p) for p in paths)
            text = re.sub(pattern, lambda m: self.mounts[m.group(1)], text, flags=re.M)
            self.args[i] = os.path.join(root, "portunus.yaml")
            with open(self.args[i], "w") as fh:
                fh.write(text)

    def local(self, value):
        for path, local in sorted(self.mounts.items(), key=lambda kv: -len(kv[0])):
            if value == path or value.startswith(path + "/"):
                return local + value[len(path):]
        return value

    def lookup(self, kind, name, key):
        obj = self.r.get(kind, name)
        if obj is not None:
            data = obj.get("data") or {}
            if key not in data:
                raise KeyError("%s %s has no key %s" % (kind, name, key))
            return base64.b64decode(data[key]).decode() if kind == "Secret" else data[key]
        # An existing object the user provides: any value of the right shape.
        return self.external.setdefault((name, key), "ext-" + hashlib.sha256((name + key).encode()).hexdigest())

    def collect(self, kind, name, items, files, volume=""):
        """Adds the files a Secret/ConfigMap (or the selected items) contributes to a volume."""
        obj = self.r.get(kind, name)
        if obj is None and kind == "Secret" and not items:
            # An existing Secret mounted whole, with the content the chart's README asks for.
            with tempfile.TemporaryDirectory() as d:
                if volume == "token-keys":  # a key directory as `portunusctl keys` writes it
                    make_signing_key_dir(d)
                elif volume == "gateway-tls":  # a kubernetes.io/tls Secret
                    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                                    "-subj", "/CN=gateway", "-keyout", os.path.join(d, "tls.key"),
                                    "-out", os.path.join(d, "tls.crt")], check=True, capture_output=True)
                else:
                    raise KeyError("no stand-in for the existing Secret %s mounted as %s" % (name, volume))
                for fname in os.listdir(d):
                    files[fname] = open(os.path.join(d, fname)).read()
            return
        if items:
            keys = [(it["key"], it["path"]) for it in items]
        else:
            keys = [(k, k) for k in (obj.get("data") or {})] if obj is not None else []
        for key, path in keys:
            files[path] = self.lookup(kind, name, key)

    def materialize(self, vol, local):
        """Writes a volume the way the kubelet's atomic writer does: the files in a hidden
        timestamped directory, `..data` pointing at it, and one symlink per file."""
        files = {}
        if "configMap" in vol:
            self.collect("ConfigMap", vol["configMap"]["name"], vol["configMap"].get("items"), files)
        elif "secret" in vol:
            self.collect("Secret", vol["secret"]["secretName"], vol["secret"].get("items"), files, vol["name"])
        elif "projected" in vol:
            for src in vol["projected"]["sources"]:
                if "secret" in src:
                    self.collect("Secret", src["secret"]["name"], src["secret"].get("items"), files)
                elif "configMap" in src:
                    self.collect("ConfigMap", src["configMap"]["name"], src["configMap"].get("items"), files)
        else:
            return  # emptyDir, persistentVolumeClaim: an empty directory
        stamp = "..2026_01_01_00_00_00.000000001"
        os.makedirs(os.path.join(local, stamp))
        for path, content in files.items():
            with open(os.path.join(local, stamp, path), "w") as fh:
                fh.write(content)
        os.symlink(stamp, os.path.join(local, "..data"))
        for path in files:
            os.symlink(os.path.join("..data", path), os.path.join(local, path))


def binary_for(build_dir, command):
    if command == "portunusctl":
        return os.path.join(build_dir, "cli", "portunusctl")
    svc = command[len("portunus-"):]
    return os.path.join(build_dir, "services", svc, command)


def cmd_config(args):
    chart = Chart(helm_path(args), args.chart)
    ctl = binary_for(args.build_dir, "portunusctl")
    known = known_env_names(ctl)
    ref_keys, doc_keys = reference_keys(ctl, args.source_dir)
    f = Failures()
    f.check(len(ref_keys) > 20, "portunusctl config reference lists keys (found %d)" % len(ref_keys))
    for name, values in chart.cases():
        print("== " + name)
        r = chart.render(values)
        # Every key of the rendered file is one the binaries document, in the reference they
        # print and in docs/configuration.md (the README points users there).
        rendered = sorted(leaves(r.config()))
        for key in rendered:
            f.check(key in ref_keys, "%s: the chart renders %s, which `portunusctl config reference` does not list"
                    % (name, key))
            f.check(key in doc_keys, "%s: the chart renders %s, which docs/configuration.md does not document"
                    % (name, key))
        print("  ok   %d rendered keys checked against the configuration reference" % len(rendered))
        seen = {}  # secret env var -> {workload: content}: every pod must see the same value
        for kind, wname, comp, pod, _ in r.workloads():
            if comp == "registry":
                continue
            for container in pod["containers"]:
                where = "%s %s/%s" % (name, kind, wname)
                with tempfile.TemporaryDirectory(prefix="helm-config-") as root:
                    p = Pod(r, pod, container, root)
                    for var in p.env:
                        if var.startswith("PORTUNUS_"):
                            f.check(var in known, "%s: sets %s, which no Portunus binary reads "
                                    "(not in `portunusctl config reference`)" % (where, var))
                        if var.endswith("_FILE"):
                            if f.check(os.path.isfile(p.env[var]), "%s: %s names a mounted file" % (where, var)):
                                seen.setdefault(var, {})[wname] = open(p.env[var]).read()
                    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
                    env.update(p.env)
                    command = container["command"][0]
                    if command == "portunusctl":
                        # The migration Job's configuration, checked for every service at once.
                        config_path = p.args[p.args.index("--config") + 1]
                        runs = [[ctl, "config", "check", config_path], [ctl, "--config", config_path, "config", "check"]]
                    else:
                        runs = [[binary_for(args.build_dir, command)] + p.args + ["--check-config"]]
                    for run in runs:
                        res = subprocess.run(run, env=env, capture_output=True, text=True)
                        out = (res.stdout + res.stderr).strip()
                        if f.check(res.returncode == 0 and "configuration is valid" in out,
                                   "%s: %s rejected the chart's configuration: %s" % (where, os.path.basename(run[0]), out)):
                            print("  ok   %s: %s" % (where, out.splitlines()[-1]))
                    if comp == "auth":
                        keys_dir = p.local("/etc/portunus/token-keys")
                        check_key_dir(where, keys_dir, ctl, f)
        for var, contents in seen.items():
            f.check(len(set(contents.values())) == 1,
                    "%s: the pods read different values through %s: %s" % (name, var, sorted(contents)))
        secrets = r.secret_data(r.name("secrets")) or {}
        if "webhook-secret" in secrets and "PORTUNUS_CATALOG_WEBHOOK_SECRET_FILE" in seen:
            f.check(set(seen["PORTUNUS_CATALOG_WEBHOOK_SECRET_FILE"].values()) == {secrets["webhook-secret"]},
                    name + ": the catalog checks the webhook secret the registry sends")
    return f.finish("helm_config")


def check_key_dir(where, keys_dir, ctl, f):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    active = open(os.path.join(keys_dir, "active")).read().strip()
    key = serialization.load_pem_private_key(open(os.path.join(keys_dir, active + ".key"), "rb").read(), None)
    cert = x509.load_pem_x509_certificate(open(os.path.join(keys_dir, active + ".crt"), "rb").read())
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    f.check(key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki),
            where + ": the active signing key matches its certificate")
    res = subprocess.run([ctl, "keys", "list", "--dir", keys_dir], capture_output=True, text=True)
    out = res.stdout + res.stderr
    if f.check(res.returncode == 0 and active in out,
               "%s: portunusctl keys list cannot read the mounted key directory: %s" % (where, out)):
        print("  ok   %s: portunusctl keys list reads the key directory (active %s)" % (where, active))


# ------------------------------------------------------------------------------ registry

def libtrust_kid(public_key):
    from cryptography.hazmat.primitives import serialization
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


def mint_token(key_pem, issuer, service, access):
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    alg = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    now = int(time.time())
    claims = {"iss": issuer, "sub": "chart-test", "aud": service, "exp": now + 300, "nbf": now - 1,
              "iat": now, "jti": uuid.uuid4().hex, "access": access}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": libtrust_kid(key.public_key())})


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(h):
                body = h.rfile.read(int(h.headers.get("Content-Length", 0)))
                self.requests.append((h.path, dict(h.headers), body))
                h.send_response(200)
                h.end_headers()

            def log_message(h, *a):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def http_call(method, url, token=None, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def push_image(base, repo, token):
    """A one-layer OCI image pushed with plain HTTP calls; returns the manifest status."""
    import gzip
    import io
    import tarfile
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        data = b"chart test\n"
        ti = tarfile.TarInfo("hello.txt")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers",
                                    "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]}}).encode()
    for blob in (layer, config):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        st, hdr, _ = http_call("POST", "%s/v2/%s/blobs/uploads/" % (base, repo), token)
        if st != 202:
            return st
        loc = hdr["Location"]
        loc = loc if loc.startswith("http") else base + loc
        st, _, _ = http_call("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + digest, token, blob,
                             {"Content-Type": "application/octet-stream"})
        if st != 201:
            return st
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + hashlib.sha256(layer).hexdigest(), "size": len(layer)}]}).encode()
    st, _, _ = http_call("PUT", "%s/v2/%s/manifests/v1" % (base, repo), token, manifest,
                         {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    return st


def run_registry_case(case, r, registry_bin, f):
    cfg = r.config()
    secrets = r.secret_data(r.name("secrets"))
    keys = r.secret_data(r.name("token-keys"))
    rcm = r.get("ConfigMap", r.name("registry"))
    receiver = Receiver()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="helm-registry-") as root:
        storage = os.path.join(root, "storage")
        bundled = r.get("Deployment", r.name("registry"))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        debug_port = None
        if bundled:
            pod = bundled["spec"]["template"]["spec"]
            container = pod["containers"][0]
            p = Pod(r, pod, container, root)
            env.update(p.env)
            config_path = p.local(container["args"][1])
            reg = yaml.safe_load(open(config_path))
            bundle_path = p.local(reg["auth"]["token"]["rootcertbundle"])
            reg["auth"]["token"]["rootcertbundle"] = bundle_path
            reg["storage"]["filesystem"]["rootdirectory"] = storage
            reg["http"]["addr"] = "127.0.0.1:%d" % port
            if "debug" in reg["http"]:
                debug_port = free_port()
                reg["http"]["debug"]["addr"] = "127.0.0.1:%d" % debug_port
            config_path = os.path.join(root, "config.yml")
            with open(config_path, "w") as fh:
                yaml.safe_dump(reg, fh)
        else:
            # A registry the user runs: only storage and HTTP in its own file, and the chart's env
            # entries (env.yaml) for everything Portunus needs.
            container = {"env": yaml.safe_load(rcm["data"]["env.yaml"])}
            p = Pod(r, {"volumes": []}, container, root)
            env.update(p.env)
            bundle_path = os.path.join(root, "bundle.crt")
            with open(bundle_path, "w") as fh:
                fh.write(rcm["data"]["bundle.crt"])
            f.check(env["REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE"] == "/etc/docker/registry/portunus/bundle.crt",
                    case + ": env.yaml points the registry at the mounted bundle")
            env["REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE"] = bundle_path
            config_path = os.path.join(root, "config.yml")
            with open(config_path, "w") as fh:
                yaml.safe_dump({"version": "0.1", "log": {"level": "warn"},
                                "storage": {"filesystem": {"rootdirectory": storage}, "delete": {"enabled": True}},
                                "http": {"addr": "127.0.0.1:%d" % port}}, fh)
        f.check(env.get("PORTUNUS_WEBHOOK_SECRET") == secrets["webhook-secret"],
                case + ": the registry gets the webhook secret from the chart's Secret")
        endpoints = json.loads(env["REGISTRY_NOTIFICATIONS_ENDPOINTS"])
        f.check(endpoints[0]["headers"]["Authorization"] == ["Bearer " + secrets["webhook-secret"]],
                case + ": the kubelet-expanded notification header carries the webhook secret")
        original_url = endpoints[0]["url"]
        path = "/" + original_url.split("/", 3)[3]
        endpoints[0]["url"] = "http://127.0.0.1:%d%s" % (receiver.server_address[1], path)
        env["REGISTRY_NOTIFICATIONS_ENDPOINTS"] = json.dumps(endpoints)
        log_path = os.path.join(root, "registry.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([registry_bin, "serve", config_path], env=env, stdout=log, stderr=log)
        try:
            base = "http://127.0.0.1:%d" % port

            def up():
                try:
                    return http_call("GET", base + "/")[0] == 200
                except OSError:
                    return proc.poll() is not None  # stop waiting when it died
            poll("the registry", up)
            if not f.check(proc.poll() is None, case + ": the registry starts with the chart's configuration"):
                return
            st, hdr, _ = http_call("GET", base + "/v2/")
            challenge = hdr.get("Www-Authenticate", "")
            want = 'Bearer realm="%s/v2/token",service="%s"' % (cfg["gateway"]["external_url"], cfg["registry"]["service"])
            if f.check(st == 401 and challenge == want,
                       "%s: /v2/ challenge %r, want %r" % (case, challenge, want)):
                print("  ok   %s: challenge %s" % (case, challenge))
            active = keys["active"].strip()
            access = [{"type": "repository", "name": "chart/test", "actions": ["pull", "push"]},
                      {"type": "registry", "name": "catalog", "actions": ["*"]}]
            token = mint_token(keys[active + ".key"], cfg["auth"]["token"]["issuer"], cfg["registry"]["service"], access)
            wrong = mint_token(keys[active + ".key"], "someone-else", cfg["registry"]["service"], access)
            f.check(http_call("GET", base + "/v2/_catalog", wrong)[0] == 401,
                    case + ": a token from another issuer is refused")
            st = push_image(base, "chart/test", token)
            if f.check(st == 201, "%s: push with a token signed by the chart's key: status %s" % (case, st)):
                print("  ok   %s: pushed chart/test:v1 with a token signed by %s" % (case, active))
            st, _, body = http_call("GET", base + "/v2/_catalog", token)
            f.check(st == 200 and "chart/test" in json.loads(body)["repositories"], case + ": catalog lists the push")

            def pushed_event():
                for path_, headers, body in list(receiver.requests):
                    for ev in json.loads(body).get("events", []):
                        if ev["action"] == "push" and ev["target"].get("tag") == "v1":
                            return path_, headers
                return None
            try:
                got_path, headers = poll("the push event", pushed_event, timeout=20)
                f.check(got_path == "/v2/webhooks/events", case + ": event posted to /v2/webhooks/events")
                if f.check(headers.get("Authorization") == "Bearer " + secrets["webhook-secret"],
                           case + ": event carries Authorization: Bearer <webhook secret>"):
                    print("  ok   %s: push event delivered with the webhook secret (configured URL %s)" % (case, original_url))
            except TimeoutError:
                f.check(False, case + ": no push event reached the webhook receiver")
            if debug_port:
                st, _, body = http_call("GET", "http://127.0.0.1:%d/metrics" % debug_port)
                f.check(st == 200 and b"registry_" in body, case + ": registry metrics served on the debug port")
        finally:
            proc.terminate()
            proc.wait(10)
            receiver.shutdown()
            if f.items:
                print(open(log_path).read()[-4000:])


def cmd_registry(args):
    if not os.access(args.registry, os.X_OK):
        print("%s is missing (scripts/install-deps installs docker-registry)" % args.registry)
        return 1
    chart = Chart(helm_path(args), args.chart)
    f = Failures()
    cases = dict(chart.cases())
    runs = [("ci-bundled-registry", cases["ci-bundled-registry"]),
            ("ci-minimal", cases["ci-minimal"]),
            ("ci-minimal with an RSA key", cases["ci-minimal"] + ["--set", "tokenSigning.generate.algorithm=rsa"])]
    for name, values in runs:
        print("== " + name)
        run_registry_case(name, chart.render(values), args.registry, f)
    return f.finish("helm_registry")


# ------------------------------------------------------------------------------ negative

def cmd_negative(args):
    chart = Chart(helm_path(args), args.chart)
    f = Failures()
    cases = [
        ("missing required value database.host", ["--set", "database.host="],
         ["database.host is required"]),
        ("missing required value registry.url", ["--set", "registry.url="],
         ["registry.url is required"]),
        ("missing ingress host", ["--set", "ingress.enabled=true", "--set", "ingress.host="],
         ["ingress.host is required when ingress.enabled is true"]),
        ("schema: wrong type", ["--set", "auth.replicaCount=two"], ["auth", "replicaCount", "integer"]),
        ("schema: enum", ["--set", "log.level=verbose"], ["log", "level", "debug"]),
        ("schema: unknown value", ["--set", "gateway.replicas=3"], ["gateway", "replicas", "not allowed"]),
        ("schema: bad duration", ["--set", "database.connectTimeout=5 seconds"], ["connectTimeout"]),
        ("autoscaling bounds", ["--set", "auth.autoscaling.enabled=true", "--set", "auth.autoscaling.minReplicas=9",
                                "--set", "auth.autoscaling.maxReplicas=3"],
         ["auth.autoscaling.minReplicas (9) must not exceed auth.autoscaling.maxReplicas (3)"]),
    ]
    for what, values, wants in cases:
        r = chart.run(["template", RELEASE, chart.dir] + values)
        err = r.stderr.strip()
        ok = r.returncode != 0 and all(w in err for w in wants)
        if f.check(ok, "%s: want failure naming %s, got rc=%d: %s" % (what, wants, r.returncode, err)):
            first = next((l for l in err.splitlines() if "rror" in l or " at '" in l), err)
            print("  ok   %s: %s" % (what, first.strip()))
    return f.finish("helm_negative")


# ------------------------------------------------------------------------------ values

def resolve(schema, node):
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].split("/")[-1]]
    return node


def leaves(value, path=""):
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from leaves(v, path + "." + k if path else k)
    else:
        yield path


def cmd_values(args):
    f = Failures()
    values = yaml.safe_load(open(os.path.join(args.chart, "values.yaml")))
    schema = json.load(open(os.path.join(args.chart, "values.schema.json")))
    readme = open(os.path.join(args.chart, "README.md")).read()
    section = readme.split("\n## Values\n", 1)[-1].split("\n## ", 1)[0]
    documented = set()
    for row in re.findall(r"^\| `([A-Za-z0-9_.<>]+)` \|", section, re.M):
        # `<service>.x` rows document x of every service.
        documented.update([row.replace("<service>", c) for c in COMPONENTS] if row.startswith("<service>.") else [row])
    count = 0
    for path in leaves(values):
        count += 1
        parts = path.split(".")
        # Walk the schema; opens[i] tells whether the object holding parts[i] admits any key (a
        # Kubernetes object or a free-form map, documented as a whole with its default).
        node, opens = resolve(schema, schema), []
        for part in parts:
            opens.append(node.get("type") == "object" and node.get("additionalProperties", True) is not False)
            props = node.get("properties", {})
            if part in props:
                node = resolve(schema, props[part])
            elif opens[-1]:
                node = {}
            else:
                node = None
                break
        f.check(node is not None, "values.yaml %s is not in values.schema.json" % path)
        doc_ok = path in documented or any(
            ".".join(parts[:i]) in documented and any(opens[i:]) for i in range(1, len(parts)))
        f.check(doc_ok, "values.yaml %s is not documented in the chart's README.md" % path)
    for path in sorted(documented):
        node = values
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                f.check(False, "README.md documents %s, which values.yaml does not have" % path)
                break
            node = node[part]
    print("%d values checked against values.schema.json and README.md (%d documented paths)" % (count, len(documented)))
    return f.finish("helm_values")


# ------------------------------------------------------------------------------ upgrade

LOOKUP = re.compile(r'\(lookup "v1" "Secret" \$ns (\([^()]*\)|[^()\s]+)\)')


def chart_with_fake_cluster(src, dst):
    """A copy of the chart whose `lookup` of Secrets reads .Values.__cluster.<name> instead of a
    cluster (helm template has none), so that upgrades can be rendered offline. Without its
    values.schema.json, which would refuse __cluster (the schema has its own checks)."""
    import shutil
    shutil.copytree(src, dst)
    path = os.path.join(dst, "templates", "_secrets.tpl")
    text = open(path).read()
    text, n = LOOKUP.subn(r'(index (.Values.__cluster | default dict) \1 | default dict)', text)
    open(path, "w").write(text)
    os.remove(os.path.join(dst, "values.schema.json"))
    return n


def cluster_values(root, rendered, names, extra=None):
    cluster = {}
    for n in names:
        s = rendered.get("Secret", n)
        if s is not None:
            cluster[n] = {"data": dict(s["data"])}
    cluster.update(extra or {})
    path = os.path.join(root, "cluster-%d.yaml" % len(os.listdir(root)))
    with open(path, "w") as fh:
        yaml.safe_dump({"__cluster": cluster}, fh)
    return path


def b64(text):
    return base64.b64encode(text.encode()).decode()


def cmd_upgrade(args):
    helm = helm_path(args)
    f = Failures()
    with tempfile.TemporaryDirectory(prefix="helm-upgrade-") as root:
        n = chart_with_fake_cluster(args.chart, os.path.join(root, "portunus"))
        if not f.check(n == 3, "the chart reads 3 Secrets with lookup (found %d): update this test with the chart" % n):
            return f.finish("helm_upgrade")
        chart = Chart(helm, os.path.join(root, "portunus"))
        values_dir = os.path.join(root, "values")
        os.makedirs(values_dir)
        minimal = ["-f", os.path.join(args.chart, "ci", "minimal-values.yaml")]

        print("== install, then upgrade with the installed Secrets in the cluster")
        first = chart.render(minimal)
        names = [first.name("secrets"), first.name("token-keys")]
        again = chart.render(minimal + ["-f", cluster_values(values_dir, first, names)])
        for n in names:
            f.check(first.secret_data(n) == again.secret_data(n), "upgrade keeps Secret %s" % n)
        f.check(again.secret_data(again.name("migrate"))["internal-secret"] ==
                first.secret_data(names[0])["internal-secret"], "the migration hook gets the kept internal secret")
        f.check(first.get("ConfigMap", first.name("registry"))["data"]["bundle.crt"] ==
                again.get("ConfigMap", again.name("registry"))["data"]["bundle.crt"],
                "upgrade keeps the registry's bundle")
        fresh = chart.render(minimal)
        f.check(fresh.secret_data(names[0])["internal-secret"] != first.secret_data(names[0])["internal-secret"],
                "an install without the Secrets generates new ones")

        print("== a second key added to the key directory by hand (rotation), then upgrade")
        keys = first.secret_data(names[1])
        extra_dir = os.path.join(root, "newkey")
        os.makedirs(extra_dir)
        make_signing_key_dir(extra_dir)
        new_name = open(os.path.join(extra_dir, "active")).read().strip()
        data = {k: b64(v) for k, v in keys.items()}
        data[new_name + ".key"] = b64(open(os.path.join(extra_dir, new_name + ".key")).read())
        data[new_name + ".crt"] = b64(open(os.path.join(extra_dir, new_name + ".crt")).read())
        data["active"] = b64(new_name + "\n")
        rotated = chart.render(minimal + ["-f", cluster_values(values_dir, first, [names[0]], {names[1]: {"data": data}})])
        got = rotated.secret_data(names[1])
        old_name = keys["active"].strip()
        f.check(got["active"].strip() == new_name, "upgrade keeps the hand-set active key")
        for name in (old_name, new_name):
            f.check(got[name + ".crt"].strip() in got["bundle.crt"], "bundle.crt holds the certificate of " + name)
        f.check(rotated.get("ConfigMap", rotated.name("registry"))["data"]["bundle.crt"].strip() ==
                got["bundle.crt"].strip(), "the registry ConfigMap's bundle follows the key directory")

        print("== bundled registry: a new bundle restarts the registry, the same one does not")
        bundled = ["-f", os.path.join(args.chart, "ci", "bundled-registry-values.yaml")]
        b1 = chart.render(bundled)
        b2 = chart.render(bundled + ["-f", cluster_values(values_dir, b1, names)])
        b3 = chart.render(bundled + ["-f", cluster_values(values_dir, b1, [names[0]], {names[1]: {"data": data}})])

        def stamp(r):
            return r.get("Deployment", r.name("registry"))["spec"]["template"]["metadata"]["annotations"]
        f.check(stamp(b1) == stamp(b2), "an upgrade with nothing changed keeps the registry pod template")
        for comp in ("auth", "catalog", "gateway"):
            f.check(b1.get("Deployment", b1.name(comp)) == b2.get("Deployment", b2.name(comp)),
                    "an upgrade with nothing changed leaves the %s Deployment alone (no needless rollout)" % comp)
        f.check(stamp(b1)["checksum/bundle"] != stamp(b3)["checksum/bundle"], "a new certificate rolls the registry")
        f.check(b2.secret_data(names[0])["registry-http-secret"] == b1.secret_data(names[0])["registry-http-secret"],
                "upgrade keeps the registry's http secret")

        print("== tokenSigning.existingSecret: the registry ConfigMap gets the bundle when the Secret is readable")
        ext = {"own-keys": {"data": {k: v for k, v in data.items()}}}
        r = chart.render(minimal + ["--set", "tokenSigning.existingSecret=own-keys",
                                    "-f", cluster_values(values_dir, first, [], ext)])
        f.check(r.get("Secret", names[1]) is None, "no chart-made key Secret with an existing one")
        bundle = r.get("ConfigMap", r.name("registry"))["data"].get("bundle.crt", "")
        f.check(all(got[n + ".crt"].strip() in bundle for n in (old_name, new_name)),
                "the registry ConfigMap carries the existing Secret's certificates")
        auth = r.get("Deployment", r.name("auth"))["spec"]["template"]["spec"]
        f.check(any(v.get("secret", {}).get("secretName") == "own-keys" for v in auth["volumes"]),
                "auth mounts the existing key Secret")
    return f.finish("helm_upgrade")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("check", choices=["chart-check", "render", "config", "registry", "negative", "values", "upgrade"])
    ap.add_argument("--chart", required=True, help="the chart directory")
    ap.add_argument("--get-helm", help="tests/helm_get_helm.sh")
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                    help="the checkout (to find ../shared/tools/chart-check)")
    ap.add_argument("--build-dir", help="CMake build directory (binaries)")
    ap.add_argument("--registry", default="/usr/bin/docker-registry")
    args = ap.parse_args()
    fn = {"chart-check": cmd_chart_check, "render": cmd_render, "config": cmd_config,
          "registry": cmd_registry, "negative": cmd_negative, "values": cmd_values,
          "upgrade": cmd_upgrade}[args.check]
    sys.exit(fn(args))


if __name__ == "__main__":
    main()
