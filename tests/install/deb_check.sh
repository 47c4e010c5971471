#!/usr/bin/env bash
# Builds the Debian packages (cpack -G DEB) of a build folder into a temporary folder,
# checks their names, versions, dependencies and contents, unpacks them (dpkg-deb -x,
# never dpkg -i) and runs the unpacked flowrun on an unpacked example flow.
# Usage: deb_check.sh BUILD VERSION WORK
set -euo pipefail
unset LD_LIBRARY_PATH
# validate checks the flows' connection config, filled from these (nothing is sent).
export AUTH0_DOMAIN=tenant.example.com AUTH0_CLIENT_ID=flowrun-validate AUTH0_CLIENT_SECRET=unused-by-validate
unset AUTH0_TOKEN AUTH0_CA_FILE
build=$1 version=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
start=$SECONDS
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack"; }
echo "cpack: $((SECONDS - start)) s"
arch=$(dpkg --print-architecture)

deb() { local f="$work/out/$1_${version}_${arch}.deb"; [ -f "$f" ] || fail "missing $(basename "$f") (got: $(ls "$work/out"))"; echo "$f"; }
plugin=$(deb libauth0-actions)
flowrun=$(deb flowrun)
dev=$(deb wfa-dev)
linkplan=$(deb auth0-linkplan)

for f in "$plugin" "$flowrun" "$dev" "$linkplan"; do
  [ "$(dpkg-deb -f "$f" Version)" = "$version" ] || fail "$(basename "$f"): Version $(dpkg-deb -f "$f" Version)"
done
# Run-time dependencies as dpkg-shlibdeps found them in the binaries.
depends_has() { dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/^ *//' | grep -q "^$2\( \|$\)" ||
  fail "$(basename "$1") does not depend on $2 (Depends: $(dpkg-deb -f "$1" Depends))"; }
depends_has "$plugin" libssl3
depends_has "$plugin" libc6
depends_has "$plugin" libstdc++6
depends_has "$flowrun" libc6
depends_has "$dev" libboost-json1.81-dev
depends_has "$linkplan" zlib1g
# Boost libraries: a dependency exactly when the binary links one dynamically.
for pair in "$plugin:usr/lib/wfa/plugins/libauth0_actions.so" "$flowrun:usr/bin/flowrun"; do
  pkg=${pair%%:*} file=${pair#*:}
  dpkg-deb -x "$pkg" "$work/probe"
  for lib in $(objdump -p "$work/probe/$file" | awk '/NEEDED/ && /libboost_/ {print $2}'); do
    name=$(echo "$lib" | sed -E 's/^lib(boost_[a-z_]+)\.so\.([0-9.]+)$/lib\1\2/; s/_/-/g')
    depends_has "$pkg" "$name"
  done
done

# Contents: each file where the README says it goes, and nothing under /usr/local.
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|'; }
expect() { contents "$1" | grep -qx "$2" || fail "$(basename "$1") lacks $2"; }
expect "$plugin" /usr/lib/wfa/plugins/libauth0_actions.so
expect "$plugin" /usr/share/wfa/manifests/actions/auth0.link-account.json
expect "$plugin" /usr/share/wfa/flows/link-with-merge.flow.json
expect "$flowrun" /usr/bin/flowrun
expect "$flowrun" /usr/lib/libwfa_runner.so.1
expect "$dev" /usr/lib/libwfa_runner.so
expect "$dev" /usr/include/wfa/runner.h
expect "$dev" /usr/lib/cmake/wfa/wfaRunnerTargets.cmake
expect "$linkplan" /usr/bin/linkplan
expect "$dev" /usr/include/wfa/wfa.h
expect "$dev" /usr/include/wfa/host.hpp
expect "$dev" /usr/lib/libwfa_host.a
expect "$dev" /usr/lib/cmake/wfa/wfaConfig.cmake
expect "$dev" /usr/lib/cmake/wfa/wfaConfigVersion.cmake
expect "$dev" /usr/lib/pkgconfig/wfa.pc
for f in "$plugin" "$flowrun" "$dev" "$linkplan"; do
  if contents "$f" | grep -q '^/usr/local'; then fail "$(basename "$f") installs under /usr/local"; fi
done
if contents "$flowrun" | grep '\.so' | grep -vq '^/usr/lib/libwfa_runner\.so\.1'; then
  fail "flowrun carries a library other than libwfa_runner.so.1"
fi
if contents "$plugin" | grep -q '/bin/'; then fail "libauth0-actions carries a program"; fi

# Unpacked together, as installed: flowrun finds the plugin from the flow's bare name.
root="$work/root"
for f in "$plugin" "$flowrun" "$dev" "$linkplan"; do dpkg-deb -x "$f" "$root"; done
cd /
for f in "$root"/usr/share/wfa/flows/*.flow.json; do
  "$root/usr/bin/flowrun" validate "$f" || fail "unpacked flowrun could not validate $f"
done
"$root/usr/bin/linkplan" --help 2>&1 | grep -q "usage: linkplan" || fail "unpacked linkplan does not run"
described=$("$root/usr/bin/flowrun" describe "$root/usr/lib/wfa/plugins/libauth0_actions.so")
[[ $described == "auth0-actions $version "* ]] || fail "unpacked plugin does not report version $version: ${described%%$'\n'*}"
PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig" pkg-config --cflags wfa | grep -q -- "-I$root/usr/lib/pkgconfig/../../include" ||
  fail "wfa.pc is not relocatable: $(PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig" pkg-config --cflags wfa)"
for f in "$plugin" "$flowrun" "$dev" "$linkplan"; do
  echo "$(basename "$f"): Depends: $(dpkg-deb -f "$f" Depends)"
done
echo "ok: packages built, checked and run unpacked"
