#!/usr/bin/python3
"""mkoci.py: builds OCI image layouts offline, for tests (no container engine on this machine).

Writes blobs, the manifest(s), an optional multi-platform index and index.json into an OCI image
layout directory that `skopeo copy oci:DIR:TAG docker://...` and `umoci` accept (ENVIRONMENT.md,
Appendix B). Output is deterministic: the same spec gives the same digests (tar mtime 0, gzip
mtime 0, entries in the given order, fixed `created`).

Usage:
  mkoci.py --spec SPEC.json            (SPEC "-" reads stdin)
  mkoci.py DIR TAG [--os linux] [--arch amd64] [--variant v8]
           [--file PATH=CONTENT] [--file-from PATH=LOCALFILE] [--dir PATH] [--symlink PATH=TARGET]
           [--whiteout PATH] [--opaque DIR] [--layer] ...
    --layer starts a new layer; the options after it go into that layer.

Spec (JSON):
  {"layout": "DIR", "tag": "v1",
   "index": false,              # force an OCI index even for one platform (default: index only
                                # when there are several images)
   "images": [{"os": "linux", "architecture": "amd64", "variant": "",
               "config": {"Env": [...], "Cmd": [...], "Labels": {...}},   # optional image config
               "created": "1970-01-01T00:00:00Z",
               "layers": [{"compression": "gzip" | "none",
                           "entries": [
                              {"type": "dir", "path": "var/lib/dpkg", "mode": 493},
                              {"type": "file", "path": "var/lib/dpkg/status", "content": "...",
                               "mode": 420},
                              {"type": "file", "path": "bin/x", "content_base64": "..."},
                              {"type": "file", "path": "big", "size": 1048576},  # zero bytes
                              {"type": "symlink", "path": "lib", "target": "usr/lib"},
                              {"type": "whiteout", "path": "etc/passwd"},        # .wh.passwd
                              {"type": "opaque", "path": "usr/share/doc"}]}]}]}  # .wh..wh..opq
  Parent directories of files are added automatically (mode 0755) unless listed before.

Prints a JSON summary on stdout: {"digest", "mediaType", "size", "manifests": [{"digest",
"mediaType", "size", "platform", "config": {...}, "layers": [{"digest", "size", "diff_id"}]}]}.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
REF_NAME = "org.opencontainers.image.ref.name"


class SpecError(Exception):
    pass


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data):
        digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.root, "blobs", "sha256", digest)
        if not os.path.exists(path):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return "sha256:" + digest, len(data)

    def tag(self, descriptor, tag):
        path = os.path.join(self.root, "index.json")
        index = {"schemaVersion": 2, "manifests": []}
        if os.path.exists(path):
            with open(path) as f:
                index = json.load(f)
        index["manifests"] = [m for m in index.get("manifests", [])
                              if m.get("annotations", {}).get(REF_NAME) != tag]
        d = dict(descriptor)
        d["annotations"] = {REF_NAME: tag}
        index["manifests"].append(d)
        with open(path + ".tmp", "w") as f:
            json.dump(index, f, indent=2)
        os.replace(path + ".tmp", path)


def tar_info(path, typ, mode):
    ti = tarfile.TarInfo(path)
    ti.type = typ
    ti.mode = mode
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


def build_layer(layer):
    entries = layer.get("entries", [])
    raw = io.BytesIO()
    seen_dirs = set()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        def ensure_parents(path):
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in seen_dirs:
                    seen_dirs.add(d)
                    t.addfile(tar_info(d, tarfile.DIRTYPE, 0o755))

        for e in entries:
            typ = e.get("type", "file")
            path = e.get("path", "").strip("/")
            if not path or ".." in path.split("/"):
                raise SpecError("entry needs a relative path without '..': %r" % e)
            ensure_parents(path)
            if typ == "dir":
                if path not in seen_dirs:
                    seen_dirs.add(path)
                    t.addfile(tar_info(path, tarfile.DIRTYPE, e.get("mode", 0o755)))
            elif typ == "file":
                if "content_base64" in e:
                    data = base64.b64decode(e["content_base64"])
                elif "size" in e:
                    data = b"\0" * int(e["size"])
                else:
                    data = e.get("content", "").encode()
                ti = tar_info(path, tarfile.REGTYPE, e.get("mode", 0o644))
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            elif typ == "symlink":
                ti = tar_info(path, tarfile.SYMTYPE, 0o777)
                ti.linkname = e["target"]
                t.addfile(ti)
            elif typ == "whiteout":
                head, _, name = path.rpartition("/")
                wh = (head + "/" if head else "") + ".wh." + name
                ti = tar_info(wh, tarfile.REGTYPE, 0o644)
                t.addfile(ti, io.BytesIO(b""))
            elif typ == "opaque":
                if path not in seen_dirs:
                    seen_dirs.add(path)
                    t.addfile(tar_info(path, tarfile.DIRTYPE, 0o755))
                ti = tar_info(path + "/.wh..wh..opq", tarfile.REGTYPE, 0o644)
                t.addfile(ti, io.BytesIO(b""))
            else:
                raise SpecError("unknown entry type %r" % typ)
    tar_bytes = raw.getvalue()
    diff_id = "sha256:" + hashlib.sha256(tar_bytes).hexdigest()
    compression = layer.get("compression", "gzip")
    if compression == "gzip":
        return gzip.compress(tar_bytes, mtime=0), OCI_LAYER_GZIP, diff_id
    if compression == "none":
        return tar_bytes, OCI_LAYER_TAR, diff_id
    raise SpecError("unknown compression %r" % compression)


def build_image(layout, image):
    os_name = image.get("os", "linux")
    arch = image.get("architecture", "amd64")
    layers = []
    diff_ids = []
    for layer in image.get("layers", [{}]):
        data, media_type, diff_id = build_layer(layer)
        digest, size = layout.blob(data)
        layers.append({"mediaType": media_type, "digest": digest, "size": size})
        diff_ids.append(diff_id)
    config = {
        "created": image.get("created", "1970-01-01T00:00:00Z"),
        "architecture": arch,
        "os": os_name,
        "config": image.get("config", {}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": image.get("created", "1970-01-01T00:00:00Z"),
                     "created_by": "mkoci.py"} for _ in layers],
    }
    if image.get("variant"):
        config["variant"] = image["variant"]
    config_digest, config_size = layout.blob(canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": layers,
    }
    if image.get("annotations"):
        manifest["annotations"] = image["annotations"]
    digest, size = layout.blob(canonical(manifest))
    platform = {"architecture": arch, "os": os_name}
    if image.get("variant"):
        platform["variant"] = image["variant"]
    return {
        "mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": platform,
        "config": {"digest": config_digest, "size": config_size},
        "layers": [{"digest": l["digest"], "size": l["size"], "mediaType": l["mediaType"],
                    "diff_id": d} for l, d in zip(layers, diff_ids)],
    }


def build(spec):
    if not spec.get("layout") or not spec.get("tag"):
        raise SpecError("spec needs 'layout' and 'tag'")
    images = spec.get("images") or [{}]
    layout = Layout(spec["layout"])
    built = [build_image(layout, image) for image in images]
    if len(built) > 1 or spec.get("index"):
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": b["mediaType"], "digest": b["digest"], "size": b["size"],
                           "platform": b["platform"]} for b in built],
        }
        digest, size = layout.blob(canonical(index))
        top = {"mediaType": OCI_INDEX, "digest": digest, "size": size}
    else:
        top = {"mediaType": OCI_MANIFEST, "digest": built[0]["digest"], "size": built[0]["size"]}
    layout.tag(top, spec["tag"])
    return dict(top, manifests=built)


def spec_from_args(argv):
    if len(argv) < 2:
        raise SpecError(__doc__)
    image = {"os": "linux", "architecture": "amd64", "layers": [{"entries": []}]}
    spec = {"layout": argv[0], "tag": argv[1], "images": [image]}
    it = iter(argv[2:])
    for flag in it:
        def value():
            try:
                return next(it)
            except StopIteration:
                raise SpecError("%s needs a value" % flag)
        entries = image["layers"][-1]["entries"]
        if flag == "--os":
            image["os"] = value()
        elif flag == "--arch":
            image["architecture"] = value()
        elif flag == "--variant":
            image["variant"] = value()
        elif flag == "--layer":
            image["layers"].append({"entries": []})
        elif flag in ("--file", "--file-from", "--symlink"):
            path, sep, rest = value().partition("=")
            if not sep:
                raise SpecError("%s needs PATH=VALUE" % flag)
            if flag == "--file":
                entries.append({"type": "file", "path": path, "content": rest})
            elif flag == "--file-from":
                with open(rest, "rb") as f:
                    entries.append({"type": "file", "path": path,
                                    "content_base64": base64.b64encode(f.read()).decode()})
            else:
                entries.append({"type": "symlink", "path": path, "target": rest})
        elif flag == "--dir":
            entries.append({"type": "dir", "path": value()})
        elif flag == "--whiteout":
            entries.append({"type": "whiteout", "path": value()})
        elif flag == "--opaque":
            entries.append({"type": "opaque", "path": value()})
        else:
            raise SpecError("unknown option %s" % flag)
    return spec


def main(argv):
    try:
        if len(argv) >= 1 and argv[0] == "--spec":
            if len(argv) != 2:
                raise SpecError("--spec needs one file (or -)")
            spec = json.load(sys.stdin if argv[1] == "-" else open(argv[1]))
        else:
            spec = spec_from_args(argv)
        print(json.dumps(build(spec), indent=2))
        return 0
    except (SpecError, OSError, ValueError, KeyError) as e:
        print("mkoci.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
