#!/bin/sh
# Builds libnginx-mod-http-airouter_<version>_<arch>.deb with dpkg-deb
# alone (no network, no debhelper run): `make deb`.
#
# The files are the ones `make install` puts in place (install.sh stage,
# Debian's paths); the postinst makes the modules-enabled link and copies
# the example configuration into /etc/nginx/airouter/ where there is none
# (not conffiles: a configuration already there must never be asked
# about, or joined by a providers.yaml it did not expect).
#
# Depends is read from this machine: the nginx ABI the module was built
# against (nginx-dev's debian/libnginx-mod.abisubstvars, as dh_nginx reads
# it) and the library packages of every ELF file in the package
# (dpkg-shlibdeps); with ca-certificates, whose bundle is the default
# airouter_ssl_trusted_certificate (nginx -t fails without the file).
#
# Environment (set by make): SRC, MODULE, WORK (scratch directory),
# DEB_DIR (where the .deb goes), VERSION, NGX_SRC, PROGRAMS,
# DEB_MAINTAINER.
set -eu

pkg=libnginx-mod-http-airouter
arch=$(dpkg --print-architecture)
abifile=$NGX_SRC/debian/libnginx-mod.abisubstvars

die() { printf 'make deb: %s\n' "$*" >&2; exit 1; }

[ -f "$MODULE" ] || die "no module at $MODULE: run make first"
[ -n "$VERSION" ] || die "no version: AIROUTER_VERSION in src/airouter_config.h"
[ -f "$abifile" ] || die "no $abifile: install nginx-dev (make deps)"
abi=$(sed -n 's/^nginx:abi=//p' "$abifile")
[ -n "$abi" ] || die "no nginx:abi in $abifile"

rm -rf "$WORK"
stage=$WORK/debian/$pkg
mkdir -p "$stage/DEBIAN" "$DEB_DIR"

DESTDIR=$stage MODULE_DIR=/usr/lib/nginx/modules \
    MODCONF_DIR=/usr/share/nginx/modules-available \
    NGINX_CONF_DIR=/etc/nginx CONF_DIR=/etc/nginx/airouter \
    DOC_DIR=/usr/share/doc/$pkg DATA_DIR=/usr/share/$pkg BIN_DIR=/usr/bin \
    STATE_DIR=/var/lib/airouter \
    "$SRC/packaging/install.sh" stage >/dev/null

# as dh_strip does: debug information stays in the build tree
elves=$(find "$stage" -type f ! -path "$stage/DEBIAN/*" -exec sh -c \
            'head -c 4 "$1" | grep -q "^.ELF"' _ {} \; -print)
for f in $elves; do
    strip --strip-unneeded --remove-section=.comment \
          --remove-section=.note "$f"
done

# the library packages, from the shared objects each file needs
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" \
    > "$WORK/debian/control"
libs=$(cd "$WORK" && dpkg-shlibdeps -O $(for f in $elves; do
           printf -- '-e%s ' "${f#"$WORK"/}"; done) 2>/dev/null \
       | sed -n 's/^shlibs:Depends=//p')
rm -f "$WORK/debian/control"
case "$libs" in
    *libjansson*) ;;
    *) die "dpkg-shlibdeps found no libjansson in: $libs" ;;
esac

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)

cat > "$stage/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $VERSION
Architecture: $arch
Maintainer: $DEB_MAINTAINER
Installed-Size: $size
Depends: $abi, $libs, ca-certificates
Recommends: nginx
Section: httpd
Priority: optional
Multi-Arch: foreign
Description: OpenAI-compatible AI router module for nginx
 airouter turns nginx into an OpenAI-compatible router: it reads the
 request's model (a real name, a core name or a tag query), finds every
 channel that serves a matching model, ranks them by cost, speed, quality
 and reliability, and proxies to the best one with that channel's key,
 falling back to the next when it fails.  Configuration in the
 router_config.yaml / providers.yaml format of the Smart AI Router seed.
CONTROL

[ ! -e "$stage/etc" ] || die "the package must not ship /etc (postinst's job)"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' \
     | sed 's|^\./||' | sort | xargs md5sum) > "$stage/DEBIAN/md5sums"

for s in postinst prerm postrm; do
    install -m 0755 "$SRC/packaging/deb/$s" "$stage/DEBIAN/$s"
done
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

out=$DEB_DIR/${pkg}_${VERSION}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
printf '%s\n' "$out"
