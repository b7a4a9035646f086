#!/usr/bin/env bash
# Makes the release in dist/: the tarball, the .rpm, the .deb and SHA256SUMS, from this
# checkout, with what the package registries give (Debian's dpkg-deb and rpm, PyPI's ziglang
# and cargo-zigbuild). `scripts/verify-dist.sh` then proves what was made.
#
# The binary is built against glibc 2.17 with zig (cargo zigbuild), not linked statically:
# 2.17 is the floor of every system the connector runs on (CentOS 7; Amazon Linux 2 has 2.26,
# RHEL 8 2.28), and a dynamic binary resolves names through the VM's own NSS (nsswitch.conf,
# sssd, systemd-resolved) exactly as the connector does — a static glibc binary cannot load
# the host's NSS modules safely, and musl has no NSS at all.
#
# Usage: scripts/dist.sh            (about 3 minutes on 2 cores; DIST=dir to write elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

name=zpa-preflight
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
maintainer=${MAINTAINER:-$(sed -n 's/^authors = \["\(.*\)"\]$/\1/p' Cargo.toml | head -1)}
arch=x86_64
target=x86_64-unknown-linux-gnu
glibc=2.17
dist=${DIST:-$root/dist}
# Reproducible archives: every timestamp is the commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# zig and cargo-zigbuild from PyPI, in a venv of their own (the system Python is untouched).
venv=$root/target/dist-venv
if ! command -v cargo-zigbuild >/dev/null || ! python3 -c 'import ziglang' 2>/dev/null; then
  if [ ! -x "$venv/bin/cargo-zigbuild" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'ziglang==0.17.1' 'cargo-zigbuild==0.24.1'
  fi
  export PATH="$venv/bin:$PATH"
fi

echo "dist: building $name $version for $arch, glibc $glibc" >&2
cargo zigbuild --locked --release --target "$target.$glibc"
binary=$root/target/$target/release/$name

# Only what this script makes is removed: DIST may name a folder that holds other things.
mkdir -p "$dist"
rm -rf "$dist"/.stage.*
rm -f "$dist"/*.tar.gz "$dist"/*.rpm "$dist"/*.deb "$dist"/SHA256SUMS
stage=$(mktemp -d "$dist/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# --- What every artefact carries, laid out once (the installed tree, /usr/...) ---
tree=$stage/tree
install -D -m 0755 "$binary" "$tree/usr/bin/$name"
mkdir -p "$tree/usr/share/man/man1"
"$binary" man --list | while read -r page words; do
  # shellcheck disable=SC2086 # the subcommand words are meant to split
  "$binary" man $words > "$tree/usr/share/man/man1/$page"
done
install -d "$tree/usr/share/bash-completion/completions" "$tree/usr/share/zsh/site-functions" \
  "$tree/usr/share/fish/vendor_completions.d"
"$binary" completions bash > "$tree/usr/share/bash-completion/completions/$name"
"$binary" completions zsh > "$tree/usr/share/zsh/site-functions/_$name"
"$binary" completions fish > "$tree/usr/share/fish/vendor_completions.d/$name.fish"
# The profiles and catalogues (the binary embeds the same files): to read, copy and pass
# with --profile.
mkdir -p "$tree/usr/share/$name"
cp -R checks/. "$tree/usr/share/$name/"
doc=$tree/usr/share/doc/$name
install -D -m 0644 README.md "$doc/README.md"
mkdir -p "$doc/examples"
for f in cloud-init.yaml ansible-preflight.yml zpa-preflight.service zpa-preflight-metrics.service \
  zpa-preflight-metrics.timer; do
  install -m 0644 "examples/$f" "$doc/examples/$f"
done
install -D -m 0644 examples/zpa-connector.service.d/preflight.conf \
  "$doc/examples/zpa-connector.service.d/preflight.conf"
units=$stage/units
mkdir -p "$units"
for f in zpa-preflight.service zpa-preflight-metrics.service zpa-preflight-metrics.timer; do
  install -m 0644 "examples/$f" "$units/$f"
done
find "$tree" -type d -exec chmod 0755 {} +
find "$tree" -type f ! -path '*/usr/bin/*' -exec chmod 0644 {} +

# --- The tarball: the binary at the top, the rest as ripgrep lays it out ---
base=$name-$version-$arch-linux
tarroot=$stage/$base
mkdir -p "$tarroot/doc" "$tarroot/complete" "$tarroot/share" "$tarroot/systemd"
cp "$tree/usr/bin/$name" "$tarroot/"
cp README.md LICENSE "$tarroot/"
cp "$tree"/usr/share/man/man1/*.1 "$tarroot/doc/"
cp "$tree/usr/share/bash-completion/completions/$name" "$tarroot/complete/$name.bash"
cp "$tree/usr/share/zsh/site-functions/_$name" "$tarroot/complete/"
cp "$tree/usr/share/fish/vendor_completions.d/$name.fish" "$tarroot/complete/"
cp -R "$tree/usr/share/$name/." "$tarroot/share/"
cp -R "$doc/examples" "$tarroot/examples"
cp "$units"/* "$tarroot/systemd/"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$stage" -cf - "$base" | gzip -9n > "$dist/$base.tar.gz"

# Packages carry man pages gzip'd, as both distributions' tools expect.
gzip -9n "$tree"/usr/share/man/man1/*.1

# --- The .deb (Debian's own dpkg-deb) ---
deb=$stage/deb
cp -R "$tree" "$deb"
install -D -m 0644 scripts/packaging/deb-copyright "$deb/usr/share/doc/$name/copyright"
# Debian 12's systemd units live in /lib (usrmerge makes both one place).
install -d "$deb/lib/systemd/system"
install -m 0644 "$units"/* "$deb/lib/systemd/system/"
changelog_date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
printf '%s (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
  "$name" "$version" "$version" "$maintainer" "$changelog_date" |
  gzip -9n > "$deb/usr/share/doc/$name/changelog.gz"
chmod 0644 "$deb/usr/share/doc/$name/changelog.gz"
# The libc dependency is the binary's own glibc floor (dpkg-shlibdeps would say 2.34, the
# build machine's symbols file), and only if the binary links libc at all.
depends=()
if readelf -d "$binary" | grep -q 'NEEDED.*libc\.so'; then
  floor=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  depends+=("libc6 (>= $floor)")
fi
if readelf -d "$binary" | grep -q 'NEEDED.*libgcc_s'; then
  depends+=("libgcc-s1")
fi
mkdir -p "$deb/DEBIAN"
{
  echo "Package: $name"
  echo "Version: $version"
  echo "Architecture: amd64"
  echo "Maintainer: $maintainer"
  echo "Installed-Size: $(du -sk --exclude=DEBIAN "$deb" | cut -f1)"
  if [ ${#depends[@]} -gt 0 ]; then
    (IFS=,; echo "Depends: ${depends[*]}" | sed 's/,/, /g')
  fi
  echo "Section: net"
  echo "Priority: optional"
  echo "Description: checks whether a VM's egress lets a Zscaler ZPA connector enroll"
  echo " zpa-preflight tells a Linux VM's owner, before and after installing a Zscaler"
  echo " ZPA App Connector, whether the VM's egress lets the connector enroll and stay"
  echo " connected, and when it does not, why: DNS failures and sinkholes, dropped"
  echo " TCP/443 or TCP/9000, SSL-inspecting proxies re-signing the pinned channel, a"
  echo " drifting clock, SELinux, an undersized VM or a malformed provision key, ranked"
  echo " with the fix."
} > "$deb/DEBIAN/control"
(cd "$deb" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
  xargs -0 md5sum > DEBIAN/md5sums)
find "$deb" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$deb" "$dist/${name}_${version}_amd64.deb" >/dev/null

# --- The .rpm (Debian's rpmbuild; the spec compiles nothing) ---
rpmtop=$stage/rpm
rpmstage=$stage/rpmstage
cp -R "$tree" "$rpmstage"
install -d "$rpmstage/usr/lib/systemd/system"
install -m 0644 "$units"/* "$rpmstage/usr/lib/systemd/system/"
install -D -m 0644 LICENSE "$rpmstage/usr/share/licenses/$name/LICENSE"
mkdir -p "$rpmtop"
rpmbuild --quiet -bb scripts/packaging/zpa-preflight.spec \
  --target "$arch-linux" \
  --define "_topdir $rpmtop" \
  --define "_rpmdir $dist" \
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  --define "version $version" \
  --define "packager $maintainer" \
  --define "changelog_date $(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')" \
  --define "stage $rpmstage" \
  --define "_buildhost reproducible" \
  --define "use_source_date_epoch_as_buildtime 1" \
  --define "clamp_mtime_to_source_date_epoch 1" \
  --define "_source_filedigest_algorithm 8" \
  --define "_binary_filedigest_algorithm 8" >/dev/null

(cd "$dist" && sha256sum -- *.tar.gz *.rpm *.deb > SHA256SUMS)
echo "dist: made" >&2
(cd "$dist" && ls -l -- *.tar.gz *.rpm *.deb SHA256SUMS) >&2
