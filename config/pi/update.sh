#!/bin/bash
# Hài Lòng: install a new release next to the running one, switch to it, keep the data,
# and roll back if it does not come up.
#
#   sudo config/pi/update.sh --source /path/to/hailong-checkout-or-wheel
#   sudo config/pi/update.sh --rollback          # back to the release before
#   config/pi/update.sh --list                   # what is installed
#
# Layout: /opt/hailong/releases/<version>/ (one venv each), /opt/hailong/current -> the
# running one, /opt/hailong/previous names the one before. The ratings stay in
# /var/lib/hailong: every *.db there is copied (SQLite backup API) to
# /var/lib/hailong/backups/ before the switch; the new release upgrades the files
# itself when it opens them (migrations recorded in each file). Migrations are
# additive (new tables and columns), so an older release still opens an upgraded file
# after a rollback; the backup is there if one day that is not enough.
#
# Overridable for tests and odd machines: HAILONG_PREFIX, HAILONG_STATE, SYSTEMCTL,
# HAILONG_PYTHON (makes the venv), PIP_OPTS (e.g. "--no-index --find-links /media/usb/wheels"
# on a Pi without internet), HAILONG_BUILD_RELEASE (a command run as
# `$HAILONG_BUILD_RELEASE SOURCE DIR` instead of venv + pip).
set -euo pipefail

PREFIX=${HAILONG_PREFIX:-/opt/hailong}
STATE=${HAILONG_STATE:-/var/lib/hailong}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
PYTHON=${HAILONG_PYTHON:-python3}
PIP_OPTS=${PIP_OPTS:-}
UNITS=${HAILONG_UNITS:-}
START_TIMEOUT=${HAILONG_START_TIMEOUT:-30}

say() { printf 'update: %s\n' "$*"; }
die() { printf 'update: error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

installed_units() {
    # the hailong units this machine runs (a kiosk: kiosk + sync; a server: server)
    if [ -n "$UNITS" ]; then echo "$UNITS"; return; fi
    local u found=""
    for u in hailong-kiosk hailong-sync hailong-server; do
        if $SYSTEMCTL is-enabled --quiet "$u.service" 2>/dev/null; then found="$found $u"; fi
    done
    echo "$found"
}

source_version() {
    local src=$1
    if [ -f "$src" ]; then   # a wheel: hailong-0.2.0-py3-none-any.whl
        basename "$src" | sed -n 's/^hailong-\([^-]*\)-.*\.whl$/\1/p'
    else
        sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$src/hailong/__init__.py"
    fi
}

build_release() {
    local src=$1 dir=$2
    if [ -n "${HAILONG_BUILD_RELEASE:-}" ]; then
        $HAILONG_BUILD_RELEASE "$src" "$dir"
        return
    fi
    # --system-site-packages: python3-lgpio (GPIO on a Pi 5) comes from Debian
    "$PYTHON" -m venv --system-site-packages "$dir"
    "$dir/bin/python" -m pip install --quiet --upgrade pip $PIP_OPTS
    # a real install, not editable: the release must not change under the running kiosk
    "$dir/bin/python" -m pip install --quiet $PIP_OPTS "$src"
}

backup_databases() {
    local tag=$1 db
    mkdir -p -m 0700 "$STATE/backups"
    for db in "$STATE"/*.db; do
        [ -e "$db" ] || continue
        "$PYTHON" - "$db" "$STATE/backups/$(basename "$db" .db)-$tag.db" <<'PY'
import os, sqlite3, sys
os.umask(0o077)   # ratings, maybe call-back numbers: root only
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with dst:
    src.backup(dst)   # consistent even with a WAL file next to it
print(f"update: backed up {sys.argv[1]} -> {sys.argv[2]}")
PY
    done
    # keep the last 5 backups of each file: the SD card is small
    for db in "$STATE"/*.db; do
        [ -e "$db" ] || continue
        ls -1t "$STATE/backups/$(basename "$db" .db)"-*.db 2>/dev/null | tail -n +6 | xargs -r rm -f
    done
}

switch_to() {
    # atomic: a new symlink renamed over the old one; never a moment without `current`
    ln -sfn "releases/$1" "$PREFIX/current.new"
    mv -T "$PREFIX/current.new" "$PREFIX/current"
}

current_release() {
    [ -L "$PREFIX/current" ] && basename "$(readlink "$PREFIX/current")" || true
}

restart_and_check() {
    local units=$1 u deadline
    [ -n "$units" ] || return 0
    for u in $units; do $SYSTEMCTL restart "$u.service" || return 1; done
    deadline=$((SECONDS + START_TIMEOUT))
    for u in $units; do
        until $SYSTEMCTL is-active --quiet "$u.service"; do
            [ $SECONDS -lt $deadline ] || { say "$u did not come up"; return 1; }
            sleep 1
        done
    done
}

do_update() {
    local src=$1 restart=$2 version release old units
    [ -e "$src" ] || die "no such source: $src"
    version=$(source_version "$src")
    [ -n "$version" ] || die "cannot tell the version of $src"
    release=$version
    [ ! -e "$PREFIX/releases/$release" ] || release="$version.$(date +%Y%m%d%H%M%S)"
    mkdir -p "$PREFIX/releases"
    say "building release $release in $PREFIX/releases/$release"
    # built in its final place (a venv cannot be moved: its scripts name their python);
    # nothing points at it until the switch below
    build_release "$src" "$PREFIX/releases/$release" \
        || { rm -rf "$PREFIX/releases/$release"; die "build failed; nothing changed"; }
    "$PREFIX/releases/$release/bin/hailong" --version >/dev/null \
        || { rm -rf "$PREFIX/releases/$release"; die "the new release does not run"; }

    old=$(current_release)
    units=""
    if [ "$restart" = yes ]; then units=$(installed_units); fi
    for u in $units; do $SYSTEMCTL stop "$u.service" || true; done
    backup_databases "$(date +%Y%m%dT%H%M%S)-before-$release"
    [ -z "$old" ] || echo "$old" > "$PREFIX/previous"
    switch_to "$release"
    say "current -> releases/$release${old:+ (was $old)}"
    if ! restart_and_check "$units"; then
        [ -n "$old" ] || die "release $release does not start and there is none to go back to"
        say "release $release does not start: rolling back to $old"
        switch_to "$old"
        restart_and_check "$units" || die "$old does not start either: see journalctl -u hailong-*"
        die "rolled back to $old; release $release kept in $PREFIX/releases for a look"
    fi
    say "done: $("$PREFIX/current/bin/hailong" --version)"
}

do_rollback() {
    local to old units
    [ -f "$PREFIX/previous" ] || die "no previous release recorded"
    to=$(cat "$PREFIX/previous")
    [ -d "$PREFIX/releases/$to" ] || die "previous release $to is gone"
    old=$(current_release)
    units=$(installed_units)
    for u in $units; do $SYSTEMCTL stop "$u.service" || true; done
    switch_to "$to"
    echo "$old" > "$PREFIX/previous"
    restart_and_check "$units" || die "$to does not start: see journalctl -u hailong-*"
    say "rolled back: current -> releases/$to (was $old)"
}

SOURCE="" ACTION="" RESTART=yes
while [ $# -gt 0 ]; do
    case $1 in
        --source) SOURCE=$2; ACTION=update; shift 2 ;;
        --rollback) ACTION=rollback; shift ;;
        --list) ACTION=list; shift ;;
        --no-restart) RESTART=no; shift ;;
        -h|--help) usage 0 ;;
        *) usage 2 ;;
    esac
done
case $ACTION in
    update) do_update "$SOURCE" "$RESTART" ;;
    rollback) do_rollback ;;
    list) ls -1 "$PREFIX/releases" 2>/dev/null; echo "current: $(current_release)";
          [ -f "$PREFIX/previous" ] && echo "previous: $(cat "$PREFIX/previous")" || true ;;
    *) usage 2 ;;
esac
