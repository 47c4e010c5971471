#!/usr/bin/env bash
# The "fresh Debian 12 machine" check of the README's two commands, in a minimal
# debootstrap chroot: clone this checkout into it (nothing beside it), run
# scripts/bootstrap twice (the second run must install nothing), build the release
# preset, run scripts/demo and the merge tests. Needs root and network access to the
# Debian mirror and npm. Not part of scripts/test (8.5 min on 2 cores with a fast mirror).
#   tests/scripts/fresh_debian_check.sh [CHROOT_DIR]     (default /var/tmp/a0-bookworm)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
C=${1:-/var/tmp/a0-bookworm}
[ "$(id -u)" -eq 0 ] || { echo "fresh_debian_check: run as root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null

if [ ! -x "$C/bin/bash" ]; then
  mkdir -p "$C"
  debootstrap --variant=minbase bookworm "$C" http://deb.debian.org/debian
fi
mounted=()
cleanup() { for ((i=${#mounted[@]}-1; i>=0; i--)); do umount "${mounted[i]}" || true; done; }
trap cleanup EXIT
mount -t proc proc "$C/proc" && mounted+=("$C/proc")
mount --bind /dev "$C/dev" && mounted+=("$C/dev")
mount --bind /dev/pts "$C/dev/pts" && mounted+=("$C/dev/pts")
mount -t sysfs sysfs "$C/sys" && mounted+=("$C/sys")
cp /etc/resolv.conf "$C/etc/resolv.conf"
# A TLS-intercepting proxy's CA (if this host trusts local ones), for apt and npm.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$C/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$C/usr/local/share/ca-certificates/"
fi

rm -rf "$C/root/src"
git clone -q "$root" "$C/root/src"

in_chroot() {
  chroot "$C" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c "$1"
}
in_chroot 'cd /root/src && scripts/bootstrap'
second=$(in_chroot 'cd /root/src && scripts/bootstrap 2>&1')
[ -z "$second" ] || { printf 'fresh_debian_check: the second bootstrap was not a no-op:\n%s\n' "$second" >&2; exit 1; }
in_chroot 'cd /root/src && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)" >/dev/null'
in_chroot 'cd /root/src && scripts/demo'
in_chroot 'cd /root/src && ctest --preset release -L merge'
echo "fresh_debian_check: ok ($C)"
