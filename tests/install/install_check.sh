#!/usr/bin/env bash
# Checks of the installed tree (cmake --install) as an engine author uses it.
#   install_check.sh install  BUILD PREFIX VERSION   install into PREFIX (fresh), check the layout
#   install_check.sh flowrun  PREFIX VERSION         installed flowrun finds the installed plugin
#   install_check.sh cmake    PREFIX SRC WORK VERSION HOST_C RUNNER_C  find_package(wfa) + wfa::api C host,
#                                                       a plugin on the SDK (wfa/plugin.hpp) it runs, and
#                                                       the C runner example on wfa::runner over an installed flow
#   install_check.sh pkgconfig PREFIX WORK VERSION HOST_C  the same host built with pkg-config
# HOST_C: tests/engine_api/c99/host_example.c (the README's C host), run with --list.
# Nothing is installed outside PREFIX/WORK; LD_LIBRARY_PATH is cleared throughout.
set -euo pipefail
unset LD_LIBRARY_PATH
# validate checks the flows' connection config, filled from these (nothing is sent).
export AUTH0_DOMAIN=tenant.example.com AUTH0_CLIENT_ID=flowrun-validate AUTH0_CLIENT_SECRET=unused-by-validate
unset AUTH0_TOKEN AUTH0_CA_FILE
fail() { echo "FAIL: $*" >&2; exit 1; }
mode=$1
shift
actions='auth0.export-users
auth0.get-user
auth0.link-account
auth0.unlink-account
auth0.update-user-metadata
auth0.users-by-email'

# check_listing FILE VERSION: the C host's output names the plugin, its version, its six actions.
check_listing() {
  head -n1 "$1" | grep -q "^auth0-actions $2 (ABI " || fail "first line is not 'auth0-actions $2 (ABI ...)': $(head -n1 "$1")"
  [ "$(tail -n +2 "$1" | sed -E 's/^  ([^:]+): .*/\1/' | sort)" = "$actions" ] ||
    fail "actions listed: $(tail -n +2 "$1" | tr '\n' ' ')"
}

case $mode in
install)
  build=$1 prefix=$2 version=$3
  rm -rf "$prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null
  for f in include/wfa/wfa.h include/wfa/plugin.hpp include/wfa/host.hpp include/wfa/host/flow.hpp include/wfa/host/plugin_search.hpp \
           lib/libwfa_host.a lib/cmake/wfa/wfaConfig.cmake lib/cmake/wfa/wfaConfigVersion.cmake \
           lib/cmake/wfa/wfaApiTargets.cmake lib/cmake/wfa/wfaHostTargets.cmake lib/pkgconfig/wfa.pc \
           bin/flowrun lib/wfa/plugins/libauth0_actions.so \
           include/wfa/runner.h lib/libwfa_runner.so.1 lib/cmake/wfa/wfaRunnerTargets.cmake \
           share/wfa/flows/link-with-merge.flow.json share/wfa/flows/README.md; do
    [ -f "$prefix/$f" ] || fail "not installed: $f"
  done
  [ -L "$prefix/lib/libwfa_runner.so" ] || fail "not installed: lib/libwfa_runner.so (the link-time name)"
  # libwfa_runner.so exports wfa/runner.h only and needs nothing from the build tree.
  others=$(nm -D --defined-only "$prefix/lib/libwfa_runner.so.1" | awk '{ print $NF }' | grep -v '^wfa_runner_' || true)
  [ -z "$others" ] || fail "libwfa_runner.so exports more than wfa_runner_*: $others"
  if ldd "$prefix/lib/libwfa_runner.so.1" | grep -q 'not found'; then fail "libwfa_runner.so.1: $(ldd "$prefix/lib/libwfa_runner.so.1")"; fi
  for a in $actions; do
    m="$prefix/share/wfa/manifests/actions/$a.json"
    [ -f "$m" ] || fail "manifest not installed: $a"
    grep -q "^  \"version\": \"$version\",\$" "$m" || fail "$a.json does not carry version $version"
  done
  # Private headers and test code stay out.
  if find "$prefix" -name '*.cpp' -o -name 'json_schema.hpp' -o -name 'progress.hpp' | grep -q .; then
    fail "sources or private headers installed: $(find "$prefix" -name '*.cpp' -o -name '*schema.hpp' -o -name 'progress.hpp')"
  fi
  echo "ok: installed into $prefix"
  ;;
flowrun)
  prefix=$1 version=$2
  [ -x "$prefix/bin/flowrun" ] || fail "no $prefix/bin/flowrun (run the install test first)"
  # From another working directory, so that nothing is found relative to it.
  cd /
  for f in "$prefix"/share/wfa/flows/*.flow.json; do
    grep -q '"path": "libauth0_actions.so"' "$f" || fail "$f does not name the plugin by bare name"
    "$prefix/bin/flowrun" validate "$f" || fail "installed flowrun could not validate $f"
  done
  out=$("$prefix/bin/flowrun" describe "$prefix/lib/wfa/plugins/libauth0_actions.so")
  echo "$out" | head -n1 | grep -q "^auth0-actions $version " || fail "describe: $(echo "$out" | head -n1)"
  echo "ok: installed flowrun validates the installed flows (plugin by bare name, no LD_LIBRARY_PATH)"
  ;;
cmake)
  prefix=$1 src=$2 work=$3 version=$4 host_c=$5 runner_c=$6
  rm -rf "$work"
  # The prefix only: no CMAKE_PREFIX_PATH from the environment, no package registry.
  cmake -S "$src" -B "$work" -DCMAKE_PREFIX_PATH="$prefix" -DWFA_WANT_VERSION="$version" -DWFA_HOST_SOURCE="$host_c" \
        -DWFA_RUNNER_SOURCE="$runner_c" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_BUILD_TYPE=Release >"$work.log" 2>&1 ||
    { cat "$work.log" >&2; fail "configure of the consumer project"; }
  cmake --build "$work" >>"$work.log" 2>&1 || { cat "$work.log" >&2; fail "build of the consumer host"; }
  plugin_dir=$(cat "$work/plugin_dir.txt")
  [ "$(realpath "$plugin_dir")" = "$(realpath "$prefix/lib/wfa/plugins")" ] || fail "wfa_PLUGIN_DIR = $plugin_dir"
  "$work/host_example" --list "$plugin_dir/libauth0_actions.so" >"$work/listing.txt"
  check_listing "$work/listing.txt" "$version"
  # A plugin built out of tree on the installed SDK header runs under the C host.
  "$work/host_example" "$work/libsdk_echo_plugin.so" >"$work/sdk_plugin.txt" ||
    { cat "$work/sdk_plugin.txt" >&2; fail "the C host on the SDK plugin"; }
  grep -q '^sdk-echo 0.1.0 (ABI ' "$work/sdk_plugin.txt" || fail "SDK plugin: $(cat "$work/sdk_plugin.txt")"
  # The C runner on the installed libwfa_runner.so: an installed flow beside the installed
  # plugin (a bare plugin name is looked up beside the flow first) opens, validates and
  # creates its instance; a row naming an undeclared input fails as invalid_input (no
  # request is sent).
  mkdir -p "$work/flow"
  cp "$prefix/share/wfa/flows/link-with-merge.flow.json" "$work/flow/"
  ln -s "$prefix/lib/wfa/plugins/libauth0_actions.so" "$work/flow/"
  set +e
  "$work/runner_example" "$work/flow/link-with-merge.flow.json" '{"nobody": 1}' >"$work/runner.txt" 2>&1
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$work/runner.txt" >&2; fail "runner example exit $rc (want 1: an invalid row)"; }
  grep -q '^{"row":0,"status":"failed","steps":{},"error":{"code":"invalid_input","message":"inputs.nobody: unknown input' \
    "$work/runner.txt" || fail "runner example: $(cat "$work/runner.txt")"
  # A version the package does not satisfy is refused (wfaConfigVersion.cmake).
  if cmake -S "$src" -B "$work-v99" -DCMAKE_PREFIX_PATH="$prefix" -DWFA_WANT_VERSION=99 -DWFA_HOST_SOURCE="$host_c" >/dev/null 2>&1; then
    fail "find_package(wfa 99) succeeded"
  fi
  rm -rf "$work-v99"
  cat "$work/listing.txt"
  ;;
pkgconfig)
  prefix=$1 work=$2 version=$3 host_c=$4
  rm -rf "$work" && mkdir -p "$work"
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig"
  [ "$(pkg-config --modversion wfa)" = "$version" ] || fail "pkg-config --modversion wfa: $(pkg-config --modversion wfa)"
  cflags=$(pkg-config --cflags wfa)
  # shellcheck disable=SC2086 # word splitting of the flags is intended
  "${CC:-cc}" -std=c99 -Wall -Wextra -pedantic -Werror $cflags "$host_c" -o "$work/host_example" -pthread $(pkg-config --libs wfa)
  plugin_dir=$(pkg-config --variable=plugindir wfa)
  "$work/host_example" --list "$plugin_dir/libauth0_actions.so" >"$work/listing.txt"
  check_listing "$work/listing.txt" "$version"
  echo "cflags: $cflags"
  cat "$work/listing.txt"
  ;;
*) fail "unknown mode $mode" ;;
esac
