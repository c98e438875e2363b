#!/bin/bash
# Hài Lòng: install a new release next to the running one, switch to it, keep the data,
# and roll back if it does not come up.
#
#   sudo config/pi/update.sh --source /path/to/hailong-checkout-or-wheel
#   sudo config/pi/update.sh --rollback          # back to the release before
#   config/pi/update.sh --list                   # what is installed
#   options: --python PATH (default /usr/bin/python3), --keep N (releases kept, default 3),
#            --no-restart
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
# HAILONG_PYTHON (makes the venv; a system interpreter the service user can run, never
# whatever python3 is first on root's PATH), HAILONG_USER (the service user every check
# also runs as), HAILONG_KEEP (releases kept), PIP_OPTS (e.g. "--no-index --find-links /media/usb/wheels"
# on a Pi without internet), HAILONG_BUILD_RELEASE (a command run as
# `$HAILONG_BUILD_RELEASE SOURCE DIR` instead of venv + pip).
set -euo pipefail

PREFIX=${HAILONG_PREFIX:-/opt/hailong}
STATE=${HAILONG_STATE:-/var/lib/hailong}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
PYTHON=${HAILONG_PYTHON:-/usr/bin/python3}
SERVICE_USER=${HAILONG_USER:-hailong}
KEEP=${HAILONG_KEEP:-3}
PIP_OPTS=${PIP_OPTS:-}
UNITS=${HAILONG_UNITS:-}
START_TIMEOUT=${HAILONG_START_TIMEOUT:-30}

say() { printf 'update: %s\n' "$*"; }
die() { printf 'update: error: %s\n' "$*" >&2; exit 1; }

usage() {
    # the comment block at the top, up to the first line of code
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit "${1:-0}"
}
bad_usage() { printf 'update: error: %s (see --help)\n' "$*" >&2; exit 2; }

as_service_user() {
    # every check runs as root AND as the user the units run as: a release root can run
    # but the service user cannot (a root-only interpreter, a 0700 folder) must fail here,
    # not at the first start
    if [ "$(id -u)" = 0 ] && id "$SERVICE_USER" >/dev/null 2>&1; then
        runuser -u "$SERVICE_USER" -- "$@"
    else
        "$@"
    fi
}

source_hash() {
    # what the release is built from; the same hash as the current release: no rebuild
    local src=$1
    if [ -f "$src" ]; then sha256sum < "$src" | cut -c1-64; return; fi
    # (find fails on a part a wheel-less source lacks: what exists still counts)
    (cd "$src" && { find hailong kiosk sync server config systemd pyproject.toml -type f \
        -not -name '*.pyc' -not -path '*/__pycache__/*' 2>/dev/null || true; } \
        | LC_ALL=C sort | xargs -r -d '\n' sha256sum) | sha256sum | cut -c1-64
}

prune_releases() {
    # keep the newest $KEEP, and always current and previous (the SD card is small:
    # each release is a venv of ~85 MB)
    local cur prev r n=0
    cur=$(current_release)
    prev=$(cat "$PREFIX/previous" 2>/dev/null || true)
    for r in $(ls -1t "$PREFIX/releases" 2>/dev/null); do
        n=$((n + 1))
        if [ "$r" = "$cur" ] || [ "$r" = "$prev" ] || [ $n -le "$KEEP" ]; then continue; fi
        rm -rf "${PREFIX:?}/releases/$r"
        say "removed old release $r (keeping $KEEP)"
    done
}

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
    local src=$1 restart=$2 version release old units hash prev_before
    [ -e "$src" ] || die "no such source: $src"
    version=$(source_version "$src")
    [ -n "$version" ] || die "cannot tell the version of $src"
    [ -x "$PYTHON" ] || [ -n "${HAILONG_BUILD_RELEASE:-}" ] \
        || die "no interpreter $PYTHON (give --python PATH or HAILONG_PYTHON)"
    hash=$(source_hash "$src")
    old=$(current_release)
    if [ -n "$old" ] && [ "$(cat "$PREFIX/releases/$old/.source-hash" 2>/dev/null)" = "$hash" ]; then
        say "nothing changed: release $old is already built from $src"
        return 0
    fi
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
    as_service_user "$PREFIX/releases/$release/bin/hailong" --version >/dev/null \
        || { rm -rf "$PREFIX/releases/$release"; die "the new release runs as root but not \
as the service user $SERVICE_USER (an interpreter or folder it cannot read? --python \
/usr/bin/python3); nothing changed"; }
    echo "$hash" > "$PREFIX/releases/$release/.source-hash"

    units=""
    if [ "$restart" = yes ]; then units=$(installed_units); fi
    for u in $units; do $SYSTEMCTL stop "$u.service" || true; done
    backup_databases "$(date +%Y%m%dT%H%M%S)-before-$release"
    prev_before=$(cat "$PREFIX/previous" 2>/dev/null || true)
    [ -z "$old" ] || echo "$old" > "$PREFIX/previous"
    switch_to "$release"
    say "current -> releases/$release${old:+ (was $old)}"
    if ! restart_and_check "$units"; then
        [ -n "$old" ] || die "release $release does not start and there is none to go back to"
        say "release $release does not start: rolling back to $old"
        switch_to "$old"
        # "previous" is what it was before this attempt, not the release that failed
        if [ -n "$prev_before" ]; then echo "$prev_before" > "$PREFIX/previous"
        else rm -f "$PREFIX/previous"; fi
        restart_and_check "$units" || die "$old does not start either: see journalctl -u hailong-*"
        die "rolled back to $old; release $release kept in $PREFIX/releases for a look"
    fi
    prune_releases
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

do_list() {
    local releases
    releases=$(ls -1 "$PREFIX/releases" 2>/dev/null || true)
    if [ -z "$releases" ]; then echo "no release installed in $PREFIX/releases"; return 0; fi
    echo "$releases"
    echo "current: $(current_release)"
    if [ -f "$PREFIX/previous" ]; then echo "previous: $(cat "$PREFIX/previous")"; fi
}

value() {  # the value of option $1, or one clear line (not "unbound variable")
    [ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ] || bad_usage "$1 needs a value"
}

SOURCE="" ACTION="" RESTART=yes
while [ $# -gt 0 ]; do
    case $1 in
        --source) value "$@"; SOURCE=$2; ACTION=update; shift 2 ;;
        --python) value "$@"; PYTHON=$2; shift 2 ;;
        --keep) value "$@"; KEEP=$2; shift 2 ;;
        --rollback) ACTION=rollback; shift ;;
        --list) ACTION=list; shift ;;
        --no-restart) RESTART=no; shift ;;
        -h|--help) usage 0 ;;
        *) bad_usage "unknown option: $1" ;;
    esac
done
case $KEEP in ''|*[!0-9]*|0) bad_usage "--keep is a number of releases, at least 1" ;; esac
case $ACTION in
    update) do_update "$SOURCE" "$RESTART" ;;
    rollback) do_rollback ;;
    list) do_list ;;
    *) bad_usage "say --source PATH, --rollback or --list" ;;
esac
