#!/usr/bin/python3
"""Keeps the Dockerfile honest without a container engine (ctest `helm_dockerfile`).

- Both stages start from Debian 12; the build stage runs scripts/install-deps and scripts/build;
  the runtime stage ends as a numeric non-root USER.
- Every `COPY --from=build` source exists in this build (the build stage builds in /src/build,
  i.e. CMake's binary directory here; /src is the source tree) and is an ELF executable.
- Every shared library `ldd` reports for those binaries is found here and belongs to a Debian
  package that the runtime stage gets: one it installs, a dependency apt pulls in for those
  (Depends/Pre-Depends, recursively, alternatives and virtual packages resolved), or one of the
  base image (debian:12-slim holds the Essential and Priority: required packages).
- Every package the runtime stage installs is a real package of this Debian release (installed
  here, since the binaries were linked against it) and provides at least one of those libraries
  or is ca-certificates.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys


# Sanitizer runtimes of a PORTUNUS_SANITIZE=1 build (build-asan); the image never has them.
SANITIZER_RUNTIME = re.compile(r"^lib(asan|ubsan|tsan|lsan|hwasan)\.so")


def parse_dockerfile(path):
    """Returns the stages as [{name, base, instructions: [(op, args)]}], continuation lines joined."""
    lines, buf = [], ""
    for raw in open(path):
        line = raw.rstrip("\n")
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue  # a comment inside a continued RUN
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        lines.append(buf + line)
        buf = ""
    stages = []
    for line in lines:
        op, _, rest = line.strip().partition(" ")
        op = op.upper()
        if op == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.I)
            stages.append({"base": m.group(1), "name": m.group(2) or str(len(stages)), "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((op, rest.strip()))
    return stages


def installed_packages():
    """name -> {depends: [[alternatives]], priority, essential}; plus provides: virtual -> {names}."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Status}\t${Priority}\t${Essential}\t${Depends}\t"
                                   "${Pre-Depends}\t${Provides}\n"],
        capture_output=True, text=True, check=True).stdout
    pkgs, provides = {}, {}
    for line in out.splitlines():
        name, status, prio, essential, dep, pre, prov = (line.split("\t") + [""] * 7)[:7]
        if status != "installed":
            continue
        alts = []
        for group in filter(None, (dep + ("," if dep and pre else "") + pre).split(",")):
            alts.append([re.sub(r"[\s(:].*", "", a.strip()) for a in group.split("|")])
        pkgs[name] = {"depends": alts, "priority": prio, "essential": essential == "yes"}
        for p in filter(None, prov.split(",")):
            provides.setdefault(re.sub(r"[\s(:].*", "", p.strip()), set()).add(name)
    return pkgs, provides


def closure(roots, pkgs, provides):
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for alts in pkgs.get(p, {}).get("depends", []):
            # apt takes the first alternative that exists; an installed real or providing package.
            for a in alts:
                if a in pkgs:
                    todo.append(a)
                    break
                if a in provides:
                    todo.extend(sorted(provides[a])[:1])
                    break
    return seen


def owners(paths):
    """library path -> Debian package, with one dpkg -S call (merged /usr: try both spellings)."""
    variants = {}
    for p in paths:
        for v in {p, os.path.realpath(p), "/usr" + p if not p.startswith("/usr/") else p[4:]}:
            variants.setdefault(v, p)
    res = subprocess.run(["dpkg", "-S"] + sorted(variants), capture_output=True, text=True)
    found = {}
    for line in res.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        if path in variants:
            found[variants[path]] = pkg.split(":")[0].split(",")[0].strip()
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dockerfile", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)
            print("FAIL " + what)
        return ok

    stages = parse_dockerfile(args.dockerfile)
    check(len(stages) >= 2, "a multi-stage Dockerfile")
    for s in stages:
        check(re.match(r"^(docker\.io/(library/)?)?debian:(12|bookworm)([-.@].*)?$", s["base"]) is not None,
              "stage %s starts from Debian 12 (got %s)" % (s["name"], s["base"]))
    build = next((s for s in stages if s["name"] == "build"), None)
    runtime = stages[-1]
    if not check(build is not None, "a stage named build"):
        return 1
    runs = " ".join(a for op, a in build["instructions"] if op == "RUN")
    check("scripts/install-deps" in runs, "the build stage runs scripts/install-deps")
    check("scripts/build" in runs, "the build stage runs scripts/build")
    users = [a for op, a in runtime["instructions"] if op == "USER"]
    check(users and re.match(r"^[1-9][0-9]*(:[1-9][0-9]*)?$", users[-1]),
          "the runtime stage ends as a numeric non-root USER (got %s)" % users)

    # COPY --from=build SRC... DST
    binaries = []
    for op, a in runtime["instructions"]:
        if op != "COPY":
            continue
        words = shlex.split(a)
        flags = [w for w in words if w.startswith("--")]
        srcs = [w for w in words if not w.startswith("--")][:-1]
        if "--from=build" not in flags:
            check(False, "runtime COPY takes files from the build stage only: COPY %s" % a)
            continue
        for src in srcs:
            if src.startswith("/src/build/"):
                local = os.path.join(args.build_dir, src[len("/src/build/"):])
            elif src.startswith("/src/"):
                local = os.path.join(args.source_dir, src[len("/src/"):])
            else:
                check(False, "COPY source %s is outside /src" % src)
                continue
            if check(os.path.isfile(local), "COPY source %s exists in the build (%s)" % (src, local)):
                with open(local, "rb") as fh:
                    if check(fh.read(4) == b"\x7fELF", "%s is an ELF binary" % src):
                        binaries.append(local)
    for name in ["portunus-auth", "portunus-catalog", "portunus-scanner", "portunus-health",
                 "portunus-gateway", "portunusctl"]:
        check(any(os.path.basename(b) == name for b in binaries), "the image gets %s" % name)

    # apt-get install lists of the runtime stage.
    wanted = []
    for op, a in runtime["instructions"]:
        if op == "RUN":
            for m in re.finditer(r"apt-get install((?:\s+(?!&&)\S+)+)", a):
                wanted += [w for w in m.group(1).split() if not w.startswith("-")]
    check(wanted, "the runtime stage installs its libraries with apt-get install")

    libs = {}
    for b in binaries:
        out = subprocess.run(["ldd", b], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "not found" in line:
                check(False, "%s: %s" % (os.path.basename(b), line.strip()))
            m = re.match(r"\s*(\S+) => (/\S+)", line)
            if m and SANITIZER_RUNTIME.match(os.path.basename(m.group(2))):
                continue  # a PORTUNUS_SANITIZE build; the image is built without sanitizers
            if m:
                libs.setdefault(m.group(2), set()).add(os.path.basename(b))
    pkgs, provides = installed_packages()
    base = {p for p, i in pkgs.items() if i["essential"] or i["priority"] == "required"}
    present = closure(list(base) + wanted, pkgs, provides)
    owner = owners(libs)
    used = set()
    for lib in sorted(libs):
        pkg = owner.get(lib)
        if not check(pkg is not None, "no Debian package owns %s" % lib):
            continue
        used.add(pkg)
        check(pkg in present, "%s (needed by %s) comes from %s, which the runtime stage does not install "
              "(neither listed, nor a dependency of a listed package, nor in the base image)"
              % (lib, ", ".join(sorted(libs[lib])), pkg))
    for w in wanted:
        if not check(w in pkgs, "runtime package %s is not a package of this Debian release (apt-cache policy %s)" % (w, w)):
            continue
        check(w == "ca-certificates" or w in used, "runtime package %s provides none of the libraries the binaries use" % w)
    print("%d binaries, %d shared libraries from %d packages; runtime installs %d packages"
          % (len(binaries), len(libs), len(used), len(wanted)))
    if failures:
        print("helm_dockerfile: %d failure(s)" % len(failures))
        return 1
    print("helm_dockerfile: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
