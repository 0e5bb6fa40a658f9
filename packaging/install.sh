#!/bin/sh
# Installs and uninstalls airouter in Debian's nginx layout.  Called by
# `make install`, `make uninstall` and `make deb` (which stages the same
# files into its package root); every path comes from the Makefile.
#
#   packaging/install.sh install     files + the modules-enabled link; the
#                                    example config only where none is
#   packaging/install.sh uninstall   exactly what install put there
#   packaging/install.sh stage       the package's files, for make deb: no
#                                    link and no configuration (its postinst
#                                    makes both), no record
#
# Environment (all set by make): DESTDIR, MODULE (the built .so),
# MODULE_DIR, MODCONF_DIR, NGINX_CONF_DIR, CONF_DIR, DOC_DIR, DATA_DIR,
# BIN_DIR, PROGRAMS (files installed into BIN_DIR), STATE_DIR, SRC (the
# repository).
#
# DATA_DIR keeps the pristine examples (the configuration pair and an
# nginx site); the configuration is copied from there into CONF_DIR.  It
# is a pair (router_config.yaml reads the providers.yaml beside it): it is
# installed only when the directory holds neither file, and `install`
# writes the checksums of what it created to
# $STATE_DIR/installed-config.md5sums.  `uninstall` removes those files
# only if they are unchanged; a file the user edited, or one install did
# not create, stays.
set -eu

: "${DESTDIR:=}"
: "${PROGRAMS:=}"

so=ngx_http_airouter_module.so
snippet=mod-http-airouter.conf
link=50-mod-http-airouter.conf
configs="router_config.yaml providers.yaml"
docs="README.md directives.md"
examples="airouter-site.conf router_config.yaml providers.yaml"
record=installed-config.md5sums

root=$DESTDIR

say() { printf '%s\n' "$*"; }

# load_module's path: nginx's own module directory is reachable as
# "modules/" from its prefix, as Debian's snippets write it
load_path() {
    if [ "$MODULE_DIR" = /usr/lib/nginx/modules ]; then
        printf 'modules/%s' "$so"
    else
        printf '%s/%s' "$MODULE_DIR" "$so"
    fi
}

install_files() {
    [ -f "$MODULE" ] || { say "no module at $MODULE: run make first" >&2; exit 1; }

    install -d "$root$MODULE_DIR" "$root$MODCONF_DIR" "$root$DOC_DIR" \
        "$root$DATA_DIR"
    install -m 0644 "$MODULE" "$root$MODULE_DIR/$so"
    printf 'load_module %s;\n' "$(load_path)" > "$root$MODCONF_DIR/$snippet"
    chmod 0644 "$root$MODCONF_DIR/$snippet"

    install -m 0644 "$SRC/README.md" "$root$DOC_DIR/README.md"
    install -m 0644 "$SRC/docs/directives.md" "$root$DOC_DIR/directives.md"
    for f in $examples; do
        install -m 0644 "$SRC/conf.example/install/$f" "$root$DATA_DIR/$f"
    done

    if [ -n "$PROGRAMS" ]; then
        install -d "$root$BIN_DIR"
        for p in $PROGRAMS; do
            install -m 0755 "$SRC/$p" "$root$BIN_DIR/$(basename "$p")"
        done
    fi
}

install_config() {
    dir=$root$CONF_DIR

    for f in $configs; do
        if [ -e "$dir/$f" ] || [ -L "$dir/$f" ]; then
            say "kept $CONF_DIR/$f (exists); the example is in $DATA_DIR/"
            return 0
        fi
    done

    install -d "$dir"
    for f in $configs; do
        install -m 0640 "$root$DATA_DIR/$f" "$dir/$f"
    done

    install -d "$root$STATE_DIR"
    (cd "$root" && for f in $configs; do
         md5sum ".$CONF_DIR/$f"
     done) > "$root$STATE_DIR/$record"

    say "installed the example configuration into $CONF_DIR/"
}

enable_module() {
    enabled=$root$NGINX_CONF_DIR/modules-enabled
    install -d "$enabled"

    if [ -e "$enabled/$link" ] && [ ! -L "$enabled/$link" ]; then
        say "left $NGINX_CONF_DIR/modules-enabled/$link alone: not a link" >&2
        return 0
    fi

    ln -sfn "$MODCONF_DIR/$snippet" "$enabled/$link"
}

do_install() {
    install_files
    install_config
    enable_module
    say "installed airouter; then: nginx -t && nginx -s reload"
}

do_stage() {
    install_files
}

# removes $1 (under DESTDIR) when it is a file or a link
rm_file() {
    if [ -e "$root$1" ] || [ -L "$root$1" ]; then
        rm -f "$root$1"
    fi
}

rm_dir_if_empty() {
    [ -d "$root$1" ] && rmdir "$root$1" 2>/dev/null || true
}

do_uninstall() {
    enabled=$NGINX_CONF_DIR/modules-enabled

    if [ -L "$root$enabled/$link" ]; then
        rm -f "$root$enabled/$link"
    fi

    rm_file "$MODULE_DIR/$so"
    rm_file "$MODCONF_DIR/$snippet"

    for f in $docs; do
        rm_file "$DOC_DIR/$f"
    done
    rm_dir_if_empty "$DOC_DIR"
    for f in $examples; do
        rm_file "$DATA_DIR/$f"
    done
    rm_dir_if_empty "$DATA_DIR"

    for p in $PROGRAMS; do
        rm_file "$BIN_DIR/$(basename "$p")"
    done

    # the configuration install created, if nobody changed it
    if [ -f "$root$STATE_DIR/$record" ]; then
        while read -r sum path; do
            file=$root/${path#./}
            [ -f "$file" ] || continue
            if [ "$(md5sum < "$file" | cut -d' ' -f1)" = "$sum" ]; then
                rm -f "$file"
            else
                say "kept ${path#.} (changed since make install)"
            fi
        done < "$root$STATE_DIR/$record"
        rm -f "$root$STATE_DIR/$record"
        rm_dir_if_empty "$STATE_DIR"
    fi
    rm_dir_if_empty "$CONF_DIR"

    say "uninstalled airouter; then: nginx -t && nginx -s reload"
}

case "${1:-}" in
    install) do_install ;;
    uninstall) do_uninstall ;;
    stage) do_stage ;;
    *) say "usage: $0 install|uninstall|stage" >&2; exit 2 ;;
esac
