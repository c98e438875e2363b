#!/bin/bash
# Hài Lòng: install a kiosk (Raspberry Pi OS Bookworm Lite) or a commune server (Debian 12).
#
#   sudo config/pi/install.sh --bundle /media/usb/bundle-k01          # a kiosk
#   sudo config/pi/install.sh --role server                           # the commune server
#   sudo config/pi/install.sh --bundle DIR --read-only-root --state-device /dev/sda1
#
# Run it from a checkout of the project (or pass --source CHECKOUT|WHEEL). It installs
# the Debian packages, makes the `hailong` system user, a venv per release under
# /opt/hailong/releases/<version> with /opt/hailong/current pointing at it, config in
# /etc/hailong (root:hailong), state in /var/lib/hailong (hailong), the systemd units,
# and enables them. Safe to run again. Step by step: docs/technician-guide.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ETC=/etc/hailong
STATE=/var/lib/hailong
PREFIX=/opt/hailong
SYSTEMCTL=${SYSTEMCTL:-systemctl}   # overridable only to try the script where systemd does not run

ROLE=kiosk BUNDLE="" SOURCE=$REPO READ_ONLY=no STATE_DEVICE="" START=yes
PYTHON=${HAILONG_PYTHON:-/usr/bin/python3}
say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }
bad_usage() { printf 'install: error: %s (see --help)\n' "$*" >&2; exit 2; }
value() {  # the value of option $1, or one clear line (not "unbound variable")
    [ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ] || bad_usage "$1 needs a value"
}
usage() {
    # the comment block at the top, up to the first line of code
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    cat <<'EOF'
Options:
  --role kiosk|server     what this machine is (default: kiosk)
  --bundle DIR            the kiosk's bundle from `hailong server add-kiosk` (kiosk.toml, ca.crt)
  --source PATH           checkout or wheel to install (default: this checkout)
  --read-only-root        root file system read-only (overlayfs); needs --state-device
  --state-device DEV      a partition (ext4) mounted at /var/lib/hailong, kept writable
  --python PATH           the system interpreter for the release venv (default
                          /usr/bin/python3: the service user must be able to run it)
  --no-start              install and enable, but do not start now
EOF
exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case $1 in
        --role) value "$@"; ROLE=$2; shift 2 ;;
        --bundle) value "$@"; BUNDLE=$2; shift 2 ;;
        --source) value "$@"; SOURCE=$2; shift 2 ;;
        --python) value "$@"; PYTHON=$2; shift 2 ;;
        --read-only-root) READ_ONLY=yes; shift ;;
        --state-device) value "$@"; STATE_DEVICE=$2; shift 2 ;;
        --no-start) START=no; shift ;;
        -h|--help) usage 0 ;;
        *) bad_usage "unknown option: $1" ;;
    esac
done
[ "$(id -u)" = 0 ] || die "run as root (sudo)"
case $ROLE in kiosk|server) ;; *) die "--role is kiosk or server" ;; esac
if [ "$READ_ONLY" = yes ] && [ -z "$STATE_DEVICE" ]; then
    die "--read-only-root needs --state-device: with the whole root in RAM the outbox \
would be lost at every power cut (docs/technician-guide.md, 'Read-only root')"
fi
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || say "warning: made for Debian 12 / Raspberry Pi OS \
Bookworm; this is ${PRETTY_NAME:-unknown}"

# --- 1. Debian packages ----------------------------------------------------------------
PACKAGES="python3 python3-venv python3-pip ca-certificates sqlite3 fonts-dejavu-core fonts-noto-core"
if [ "$ROLE" = kiosk ]; then
    # lgpio: gpiozero's pin library on a Pi 5 (RPi.GPIO does not work there);
    # GBM/DRM/EGL: what SDL's kmsdrm video driver opens, with no desktop installed
    PACKAGES="$PACKAGES python3-lgpio libgbm1 libdrm2 libegl1 libgles2 mosquitto-clients"
    # espeak-ng: the spoken Vietnamese prompts (hailong kiosk voice); alsa-utils: aplay
    PACKAGES="$PACKAGES espeak-ng alsa-utils"
else
    PACKAGES="$PACKAGES mosquitto mosquitto-clients openssl"
fi
say "installing Debian packages: $PACKAGES"
apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES

# --- 2. the user and the folders ---------------------------------------------------------
if ! id hailong >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$STATE" --shell /usr/sbin/nologin hailong
fi
if [ "$ROLE" = kiosk ]; then
    for g in video input gpio render; do
        if getent group "$g" >/dev/null; then usermod -aG "$g" hailong
        else say "warning: no group $g here (not a Pi?)"; fi
    done
fi
# 0751: others may pass through (mosquitto reads /etc/hailong/broker/) but not list;
# the files themselves are root:hailong 0640, the secrets folder 0750
install -d -o root -g hailong -m 0751 "$ETC"
install -d -o root -g hailong -m 0750 "$ETC/secrets"
install -d -o root -g root -m 0755 "$PREFIX" "$PREFIX/releases"

if [ -n "$STATE_DEVICE" ]; then
    # the state partition: ratings survive a read-only root and a power cut
    [ -b "$STATE_DEVICE" ] || die "$STATE_DEVICE is not a block device"
    uuid=$(blkid -s UUID -o value "$STATE_DEVICE") || die "$STATE_DEVICE has no file system \
(mkfs.ext4 -L hailong-state $STATE_DEVICE first)"
    mkdir -p "$STATE"
    if ! grep -q " $STATE " /etc/fstab; then
        echo "UUID=$uuid $STATE ext4 defaults,noatime,commit=5 0 2" >> /etc/fstab
    fi
    mountpoint -q "$STATE" || mount "$STATE"
fi
install -d -o hailong -g hailong -m 0750 "$STATE"

# --- 3. the release (a venv of its own) ----------------------------------------------------
[ -x "$PYTHON" ] || die "no interpreter $PYTHON (install python3, or give --python PATH)"
HAILONG_PYTHON=$PYTHON HAILONG_USER=hailong "$HERE/update.sh" --source "$SOURCE" --no-restart

# --- 4. config ---------------------------------------------------------------------------
if [ "$ROLE" = kiosk ]; then
    if [ -n "$BUNDLE" ]; then
        [ -f "$BUNDLE/kiosk.toml" ] || die "$BUNDLE has no kiosk.toml"
        # point the bundle's paths at this layout (add-kiosk --for-pi already does)
        # made 0600 from the first byte: it holds the broker password
        (umask 077; sed -e "s|^path = .*|path = \"$STATE/outbox.db\"|" \
            -e "s|^tls_ca = .*|tls_ca = \"$ETC/ca.crt\"|" "$BUNDLE/kiosk.toml" > "$ETC/kiosk.toml.new")
        install -o root -g hailong -m 0640 "$ETC/kiosk.toml.new" "$ETC/kiosk.toml"
        rm -f "$ETC/kiosk.toml.new"
        [ ! -f "$BUNDLE/ca.crt" ] || install -o root -g hailong -m 0644 "$BUNDLE/ca.crt" "$ETC/ca.crt"
        say "installed $ETC/kiosk.toml (holds the broker password; root:hailong 0640)"
        say "delete the bundle from the USB stick now"
    elif [ ! -f "$ETC/kiosk.toml" ]; then
        install -o root -g hailong -m 0640 "$REPO/config/kiosk.example.toml" "$ETC/kiosk.toml"
        START=no
        say "no --bundle: edit $ETC/kiosk.toml (or run again with --bundle), then start"
    fi
    UNITS="hailong-kiosk hailong-sync"
else
    if [ ! -f "$ETC/server.toml" ]; then
        install -o root -g hailong -m 0640 "$REPO/config/server.example.toml" "$ETC/server.toml"
        START=no
        say "edit $ETC/server.toml, then: hailong server broker-config --config $ETC/server.toml \
--out $ETC/broker --user mosquitto --persistence /var/lib/mosquitto"
    fi
    install -d -m 0755 /etc/systemd/system/mosquitto.service.d
    install -m 0644 "$REPO/systemd/mosquitto.service.d/hailong.conf" \
        /etc/systemd/system/mosquitto.service.d/hailong.conf
    UNITS="hailong-server"
fi
# what the services will read, checked as the user they run as
for f in "$ETC"/*.toml; do
    [ -e "$f" ] || continue
    runuser -u hailong -- test -r "$f" || die "the service user hailong cannot read $f"
done
runuser -u hailong -- "$PREFIX/current/bin/hailong" --version >/dev/null \
    || die "the service user hailong cannot run $PREFIX/current/bin/hailong"
ln -sfn "$PREFIX/current/bin/hailong" /usr/local/bin/hailong
if [ "$ROLE" = kiosk ]; then
    # spoken prompts (espeak-ng's Vietnamese voice); recordings already there are kept
    hailong kiosk voice --config "$ETC/kiosk.toml" || say "warning: no voice prompts made"
fi
install -D -m 0644 "$REPO/docs/technician-guide.md" /usr/share/doc/hailong/technician-guide.md

# --- 5. systemd ----------------------------------------------------------------------------
for u in $UNITS; do
    install -m 0644 "$REPO/systemd/$u.service" "/etc/systemd/system/$u.service"
done
$SYSTEMCTL daemon-reload
# shellcheck disable=SC2046
$SYSTEMCTL enable $(printf '%s.service ' $UNITS)
if [ "$ROLE" = kiosk ]; then
    $SYSTEMCTL disable --now getty@tty1.service 2>/dev/null || true   # the screen is ours
fi

# --- 6. read-only root (optional) -----------------------------------------------------------
if [ "$READ_ONLY" = yes ]; then
    command -v raspi-config >/dev/null || die "raspi-config not found: the overlay needs \
Raspberry Pi OS"
    # logs in RAM too (they would go with the overlay anyway); ratings are on $STATE_DEVICE
    mkdir -p /etc/systemd/journald.conf.d
    printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' \
        > /etc/systemd/journald.conf.d/hailong-volatile.conf
    raspi-config nonint do_overlayfs 0   # 0 = enable; takes effect at the next boot
    say "read-only root enabled from the next boot; state stays writable on $STATE_DEVICE"
    say "to update later: sudo raspi-config nonint do_overlayfs 1, reboot, update, enable again"
fi

if [ "$START" = yes ]; then
    # shellcheck disable=SC2046
    $SYSTEMCTL restart $(printf '%s.service ' $UNITS)
    say "started: $UNITS"
fi
say "done. Check: hailong kiosk doctor --config $ETC/kiosk.toml (kiosk) / \
hailong server fleet --config $ETC/server.toml (server)"
