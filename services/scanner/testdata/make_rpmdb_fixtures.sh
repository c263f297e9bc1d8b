#!/bin/sh
# Builds the rpm database fixtures the scanner tests read, offline, into OUTDIR:
#   OUTDIR/sqlite/rpmdb.sqlite(-wal,-shm)  3 packages, as `rpm --justdb` leaves them
#   OUTDIR/sqlite-wal/...                  the same plus a 4th row only in the -wal file
#   OUTDIR/bdb/Packages                    the same 3 headers in a Berkeley DB hash
#   OUTDIR/ndb/Packages.db                 the same 3 headers in SUSE's NDB format
# Needs: rpmbuild and rpm (Debian package rpm), db5.3_load (db5.3-util), /usr/bin/python3.
# Usage: make_rpmdb_fixtures.sh OUTDIR
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rpmfix.XXXXXX")
trap 'rm -rf "$work"' EXIT
# rpmbuild and rpm touch ~/.rpmdb unless HOME points elsewhere (Debian's default _dbpath).
export HOME="$work/home"
mkdir -p "$HOME" "$out"

cat > "$work/demo.spec" <<'SPEC'
Name: demo
Epoch: 1
Version: 1.2.3
Release: 4.el9
Summary: demo package
License: MIT
Vendor: Portunus Test
BuildArch: noarch
%description
demo
%package -n demo-libs
Summary: demo libraries
%description -n demo-libs
demo libraries
%install
mkdir -p %{buildroot}/usr/share/demo
echo demo > %{buildroot}/usr/share/demo/demo.txt
echo libs > %{buildroot}/usr/share/demo/libs.txt
%files
/usr/share/demo/demo.txt
%files -n demo-libs
/usr/share/demo/libs.txt
SPEC
cat > "$work/tool.spec" <<'SPEC'
Name: tool
Version: 2.0~rc1
Release: 1.fc38
Summary: tool package
License: MIT
BuildArch: noarch
%description
tool
%install
mkdir -p %{buildroot}/usr/share/tool
echo tool > %{buildroot}/usr/share/tool/tool.txt
%files
/usr/share/tool/tool.txt
SPEC
for spec in demo tool; do
  rpmbuild --nodeps --quiet --define "_topdir $work/build" -bb "$work/$spec.spec" >/dev/null 2>&1
done
root="$work/root"
rpm --root "$root" --dbpath /var/lib/rpm --define '_db_backend sqlite' \
    --justdb --nodeps --noscripts -i "$work"/build/RPMS/noarch/*.rpm 2>/dev/null
rm -rf "$out/sqlite" "$out/sqlite-wal" "$out/bdb" "$out/ndb"
mkdir -p "$out/sqlite" "$out/sqlite-wal" "$out/bdb" "$out/ndb"
cp "$root/var/lib/rpm/rpmdb.sqlite" "$root/var/lib/rpm/rpmdb.sqlite-wal" \
   "$root/var/lib/rpm/rpmdb.sqlite-shm" "$out/sqlite/"
cp "$out"/sqlite/* "$out/sqlite-wal/"
/usr/bin/python3 "$here/rpmdb_convert.py" "$out/sqlite/rpmdb.sqlite" "$out/sqlite-wal" \
    "$work/dump.txt" "$out/ndb/Packages.db"
(cd "$out/bdb" && db5.3_load -f "$work/dump.txt" Packages)
