#!/usr/bin/env bash
# Proves the release scripts/dist.sh made, as a VM would receive it:
#   - the binary loads on the connector's oldest glibc: it is static, or needs glibc 2.17 at
#     most and nothing but glibc and libgcc_s; and it runs under Debian 11's real glibc 2.31
#     loader (downloaded into a private apt state; skipped with a line when that cannot be had);
#   - the tarball, the .deb and the .rpm hold exactly the expected files;
#   - the .deb and the .rpm install into a throwaway root and remove cleanly, with no zstd
#     payload and no glibc requirement past 2.17; the installed man page renders and the
#     installed bash completion completes flags and values;
#   - the systemd units pass `systemd-analyze verify` and rate "OK" or better in
#     `systemd-analyze security`;
#   - lintian reports nothing and rpmlint no error (its accepted findings: scripts/packaging/rpmlintrc).
# Prints the path of the shipped binary (unpacked from the tarball) on its last line, for
# `ZPA_PREFLIGHT_BIN` (.ci/run runs the test suite against it).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${DIST:-$PWD/dist}
name=zpa-preflight
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
base=$name-$version-x86_64-linux
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "verify-dist: FAIL: $*" >&2; exit 1; }
ok() { echo "verify-dist: ok: $*" >&2; }

(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"
ok "SHA256SUMS"

# --- The tarball and the binary in it ---
tar -xzf "$dist/$base.tar.gz" -C "$work"
bin=$work/$base/$name
expected_tar="$base/$name $base/README.md $base/LICENSE $base/doc/$name.1 $base/doc/$name-check.1
 $base/doc/$name-feed-update.1 $base/complete/$name.bash $base/complete/_$name
 $base/complete/$name.fish $base/share/profiles/app-connector.toml $base/share/interceptors.toml
 $base/examples/cloud-init.yaml $base/examples/ansible-preflight.yml
 $base/systemd/zpa-preflight.service $base/systemd/zpa-preflight-metrics.timer"
for f in $expected_tar; do [ -e "$work/$f" ] || fail "the tarball has no $f"; done
pages=$("$bin" man --list | wc -l)
[ "$(ls "$work/$base/doc" | wc -l)" -eq "$pages" ] || fail "the tarball lacks man pages"
ok "tarball: binary, $pages man pages, completions, profiles, examples, units"

if readelf -l "$bin" | grep -q 'INTERP'; then
  floor=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  [ "$(printf '%s\n2.17\n' "$floor" | sort -V | tail -1)" = "2.17" ] ||
    fail "the binary needs glibc $floor (more than 2.17)"
  needed=$(readelf -d "$bin" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  for lib in $needed; do
    case $lib in
      libc.so.6 | libm.so.6 | libdl.so.2 | libpthread.so.0 | librt.so.1 | libgcc_s.so.1 | ld-linux-x86-64.so.2) ;;
      *) fail "the binary needs $lib, which a minimal VM may not have" ;;
    esac
  done
  ok "binary: dynamic, glibc floor $floor, needs $needed"
else
  ok "binary: static"
fi

# Debian 11's glibc 2.31, through a private apt state (the host's apt is untouched).
old=$work/bullseye
mkdir -p "$old/state/lists/partial" "$old/cache/archives/partial" "$old/root"
touch "$old/state/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main" \
  > "$old/sources.list"
apt_old=(-o "Dir::Etc::SourceList=$old/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State=$old/state" -o "Dir::State::status=$old/state/status" -o "Dir::Cache=$old/cache"
  -o Debug::NoLocking=1)
if (cd "$old" && apt-get "${apt_old[@]}" -qq update && apt-get "${apt_old[@]}" -qq download libc6 libgcc-s1) \
  >/dev/null 2>&1; then
  for deb in "$old"/*.deb; do dpkg-deb -x "$deb" "$old/root"; done
  loader=$(ls "$old"/root/lib/x86_64-linux-gnu/ld-2.*.so)
  lib=$old/root/lib/x86_64-linux-gnu
  "$loader" --library-path "$lib" "$bin" --version >/dev/null || fail "the binary does not load on glibc 2.31"
  "$loader" --library-path "$lib" "$bin" check --root fixtures/roots/offline --dry-run >/dev/null ||
    fail "check --dry-run fails on glibc 2.31"
  "$loader" --library-path "$lib" "$bin" explain --color never \
    fixtures/reports/scenarios/egress.json >/dev/null && rc=0 || rc=$?
  [ "$rc" -eq 3 ] || fail "explain exits $rc on glibc 2.31 (3 expected)"
  ok "runs under Debian 11's $(basename "$loader") (glibc 2.31): --version, check --dry-run, explain"
elif [ "${CI:-}" = true ]; then
  fail "Debian 11's libc6 could not be downloaded"
else
  echo "verify-dist: skipped: Debian 11's libc6 could not be downloaded" >&2
fi

# What both packages install (the rpm adds its licence directory).
expected_files() {
  local units=$1
  echo "/usr/bin/$name"
  "$bin" man --list | while read -r page _; do echo "/usr/share/man/man1/$page.gz"; done
  echo "/usr/share/bash-completion/completions/$name"
  echo "/usr/share/zsh/site-functions/_$name"
  echo "/usr/share/fish/vendor_completions.d/$name.fish"
  (cd checks && find . -type f | sed "s|^\.|/usr/share/$name|")
  echo "/usr/share/doc/$name/README.md"
  for f in cloud-init.yaml ansible-preflight.yml zpa-preflight.service zpa-preflight-metrics.service \
    zpa-preflight-metrics.timer zpa-connector.service.d/preflight.conf; do
    echo "/usr/share/doc/$name/examples/$f"
  done
  for f in zpa-preflight.service zpa-preflight-metrics.service zpa-preflight-metrics.timer; do
    echo "$units/$f"
  done
}

# The installed tree works: the man page renders every option, bash completes flags and values,
# the units verify and are hardened.
check_installed() {
  local root=$1 units=$2 what=$3
  "$root/usr/bin/$name" --version >/dev/null || fail "$what: the installed binary does not run"
  MANWIDTH=120 man -l -P cat "$root/usr/share/man/man1/$name-check.1.gz" 2>/dev/null > "$work/page.txt"
  grep -q -- '--format' "$work/page.txt" && grep -q -- '--timeout' "$work/page.txt" ||
    fail "$what: man zpa-preflight-check does not show the options"
  complete() {
    bash --norc --noprofile -c "source '$root/usr/share/bash-completion/completions/$name'
      COMP_WORDS=($*); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
      _zpa__preflight $name \"\${COMP_WORDS[COMP_CWORD]}\" \"\${COMP_WORDS[COMP_CWORD-1]}\"
      echo \"\${COMPREPLY[*]}\""
  }
  [ "$(complete $name check --form)" = "--format" ] || fail "$what: check --form<TAB>"
  [ "$(complete $name check --format "''")" = "human json markdown prometheus" ] ||
    fail "$what: --format <TAB>"
  complete $name feed update --kind "''" | grep -q 'hubs-required' || fail "$what: --kind <TAB>"
  # verify loads the units a unit pulls in (sysinit.target, …) and checks ExecStart and the
  # Documentation= man pages: a scratch copy of the installed root gets the host's standard
  # targets and a shell, and man looks in the installed pages.
  local unit vroot=$work/verify-$what
  rm -rf "$vroot"
  cp -a "$root" "$vroot"
  mkdir -p "$vroot/usr/lib/systemd/system" "$vroot/bin"
  cp -n /lib/systemd/system/*.target "$vroot/usr/lib/systemd/system/"
  cp /bin/sh "$vroot/bin/sh"
  for unit in zpa-preflight.service zpa-preflight-metrics.service zpa-preflight-metrics.timer; do
    MANPATH=$vroot/usr/share/man systemd-analyze verify --root="$vroot" "$vroot$units/$unit" \
      2>"$work/verify.txt" || { cat "$work/verify.txt" >&2; fail "$what: systemd-analyze verify $unit"; }
  done
  for unit in zpa-preflight.service zpa-preflight-metrics.service; do
    local rating
    rating=$(systemd-analyze security --offline=true --root="$root" "$root$units/$unit" 2>/dev/null |
      sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\2/p')
    case $rating in
      OK | SAFE | PERFECT) ;;
      *) fail "$what: systemd-analyze security rates $unit '$rating'" ;;
    esac
  done
  ok "$what: man page, bash completion, units verified and rated OK"
}

# --- The .deb, into a throwaway root ---
deb=$dist/${name}_${version}_amd64.deb
control=$(dpkg-deb -f "$deb")
echo "$control" | grep -q '^Maintainer: .* <.*@.*>$' || fail "deb: no maintainer address"
[ "$(dpkg-deb -f "$deb" Description | head -1 | wc -c)" -le 81 ] || fail "deb: long synopsis"
[ "$(dpkg-deb -f "$deb" Description | wc -l)" -le 12 ] || fail "deb: the description is a novel"
depends=$(dpkg-deb -f "$deb" Depends)
if echo "$depends" | grep -q 'libc6 (>= 2\.\(1[89]\|[2-9][0-9]\)'; then fail "deb: depends on $depends"; fi
droot=$work/deb-root
mkdir -p "$droot/var/lib/dpkg/info" "$droot/var/lib/dpkg/updates"
touch "$droot/var/lib/dpkg/status"
dpkg --root="$droot" --force-depends --force-script-chrootless -i "$deb" >/dev/null 2>&1 ||
  dpkg --root="$droot" --force-depends -i "$deb" >/dev/null
dpkg --root="$droot" -L "$name" | while read -r f; do [ -d "$droot$f" ] || echo "$f"; done |
  grep -v -e "^/usr/share/doc/$name/copyright$" -e "^/usr/share/doc/$name/changelog.gz$" | sort > "$work/deb.list"
expected_files /lib/systemd/system | sort > "$work/deb.expected"
diff -u "$work/deb.expected" "$work/deb.list" >&2 || fail "deb: the file list differs"
check_installed "$droot" /lib/systemd/system deb
dpkg --root="$droot" --purge "$name" >/dev/null
left=$(cd "$droot" && find . -path ./var/lib/dpkg -prune -o ! -type d -print)
[ -z "$left" ] || fail "deb: left behind after purge: $left"
ok "deb: installs $(wc -l < "$work/deb.list") files (Depends: ${depends:-none}), purges cleanly"

# --- The .rpm: requirements, payload, and into a throwaway root ---
rpm=$dist/$name-$version-1.x86_64.rpm
reqs=$(rpm -qpR "$rpm")
echo "$reqs" | grep -q 'PayloadIsZstd' && fail "rpm: zstd payload (rpm 4.11 cannot read it)"
echo "$reqs" | grep -q 'GLIBC_2\.\(1[89]\|[2-9][0-9]\)' && fail "rpm: requires $(echo "$reqs" | grep GLIBC_)"
[ "$(rpm -qp --qf '%{PAYLOADCOMPRESSOR}' "$rpm")" = gzip ] || fail "rpm: payload is not gzip"
rroot=$work/rpm-root
mkdir -p "$rroot"
# Debian's rpm keeps its database in ~/.rpmdb and warns before installing: an RPM system's
# place, and no warning (the "throwaway root" is the point).
rpmroot=(--root="$rroot" --dbpath=/var/lib/rpm)
rpm "${rpmroot[@]}" --initdb
rpm "${rpmroot[@]}" -i --nodeps --force-debian "$rpm"
rpm "${rpmroot[@]}" -ql "$name" | while read -r f; do [ -d "$rroot$f" ] || echo "$f"; done |
  grep -v "^/usr/share/licenses/$name/LICENSE$" | sort > "$work/rpm.list"
expected_files /usr/lib/systemd/system | sort > "$work/rpm.expected"
diff -u "$work/rpm.expected" "$work/rpm.list" >&2 || fail "rpm: the file list differs"
check_installed "$rroot" /usr/lib/systemd/system rpm
rpm "${rpmroot[@]}" -e --force-debian "$name"
left=$(cd "$rroot" && find . \( -path ./var/lib/rpm -o -path ./usr/lib/sysimage \) -prune -o ! -type d -print)
[ -z "$left" ] || fail "rpm: left behind after erase: $left"
ok "rpm: gzip payload, requires $(echo "$reqs" | grep -c .) capabilities (none past GLIBC_2.17), installs and erases cleanly"

# --- The distributions' linters ---
lintian --fail-on error,warning "$deb" > "$work/lintian.txt" 2>&1 ||
  { cat "$work/lintian.txt" >&2; fail "lintian reports an error or a warning"; }
ok "lintian: no error, no warning"
rpmlint -r scripts/packaging/rpmlintrc "$rpm" > "$work/rpmlint.txt" 2>&1 ||
  { cat "$work/rpmlint.txt" >&2; fail "rpmlint reports an error"; }
ok "rpmlint: $(tail -1 "$work/rpmlint.txt")"

# The binary users get, for the test suite: unpacked where it outlives this script.
keep=$PWD/target/shipped
rm -rf "$keep"
mkdir -p "$keep"
tar -xzf "$dist/$base.tar.gz" -C "$keep"
echo "$keep/$base/$name"
