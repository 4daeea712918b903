#!/bin/sh
# Installs this edge-agent bundle into a root directory, after checking every file of
# the bundle against MANIFEST.sha256. POSIX sh (dash, busybox ash); see docs/bundle.md.
#
#   install.sh [--root DIR] [--board PROVISIONED_BOARD_DIR]
#   install.sh [--root DIR] --uninstall [--purge]
#
# The root defaults to $DESTDIR, else /. Installing again upgrades in place: the code
# is swapped, the config and the state are left alone unless --board brings them.
set -eu
umask 022

# @BUNDLE_DATA@
: "${BUNDLE_VERSION:=unknown}"
: "${BUNDLE_ARCH:=unknown}"
: "${BOARD_TABLE:=}"

PROG=install.sh
NAME=edge-agent
TMP=
STAGE=

say() { printf '%s\n' "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
  warn "$*"
  exit 1
}
usage() {
  cat <<'EOF'
usage: install.sh [--root DIR] [--board PROVISIONED_BOARD_DIR]
       install.sh [--root DIR] --uninstall [--purge]

  --root DIR     install into DIR instead of / (default: $DESTDIR, else /)
  --board DIR    a board's directory from `edge-agent provision` (DIR/config.json,
                 DIR/state/): installs its config and, unless already there, its identity
  --uninstall    remove the code, the wrapper, the units and the sysusers file;
                 the config and the state stay
  --purge        with --uninstall: also remove /etc/edge-agent, /var/lib/edge-agent
                 and /var/log/edge-agent (the board's identity is lost)
EOF
}
usage_error() {
  warn "$*"
  usage >&2
  exit 2
}

cleanup() {
  if [ -n "$STAGE" ]; then rm -rf "$STAGE"; fi
  if [ -n "$TMP" ]; then rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the bundle: every file listed, every hash right, nothing added ------------------

verify_bundle() {
  [ -f "$BUNDLE/MANIFEST.sha256" ] || die "$BUNDLE has no MANIFEST.sha256: not a bundle, or a damaged one; refusing to install"
  command -v sha256sum >/dev/null 2>&1 || die "sha256sum (GNU coreutils) is needed to check the bundle"
  if ! (cd "$BUNDLE" && sha256sum -c --strict --quiet MANIFEST.sha256) >"$TMP/check" 2>&1; then
    warn "$BUNDLE does not match its MANIFEST.sha256 (a changed, damaged or missing file):"
    sed -n '1,8s/^/  /p' "$TMP/check" >&2
    die "refusing to install a tampered bundle; nothing was changed"
  fi
  links=$(cd "$BUNDLE" && find . -type l | sed -n '1,5p' | tr '\n' ' ')
  [ -z "$links" ] || die "the bundle holds symbolic links, which no bundle has (${links% }); refusing to install a tampered bundle; nothing was changed"
  # sha256sum checks what is listed; an added file or folder is tampering too.
  sed 's/^[0-9a-f]\{64\}  //' "$BUNDLE/MANIFEST.sha256" | LC_ALL=C sort >"$TMP/listed"
  (cd "$BUNDLE" && find . ! -type d ! -path ./MANIFEST.sha256) | sed 's|^\./||' | LC_ALL=C sort >"$TMP/present"
  extra=$(LC_ALL=C comm -13 "$TMP/listed" "$TMP/present" | sed -n '1,5p' | tr '\n' ' ')
  [ -z "$extra" ] || die "the bundle holds files its MANIFEST.sha256 does not list (${extra% }); refusing to install a tampered bundle; nothing was changed"
  awk '{ p = $0; while (sub(/\/[^\/]*$/, "", p)) print p }' "$TMP/listed" | LC_ALL=C sort -u >"$TMP/listed-dirs"
  (cd "$BUNDLE" && find . -type d ! -path .) | sed 's|^\./||' | LC_ALL=C sort >"$TMP/present-dirs"
  extra=$(LC_ALL=C comm -13 "$TMP/listed-dirs" "$TMP/present-dirs" | sed -n '1,5p' | tr '\n' ' ')
  [ -z "$extra" ] || die "the bundle holds folders its MANIFEST.sha256 does not account for (${extra% }); refusing to install a tampered bundle; nothing was changed"
}

# --- small helpers ----------------------------------------------------------------

# install_file SRC DST MODE OWNER: copy beside DST, set mode and owner, rename over DST.
install_file() {
  mkdir -p "${2%/*}"
  cp "$1" "$2.new"
  chown "$4" "$2.new"
  chmod "$3" "$2.new"
  mv -f "$2.new" "$2"
}

# The peer id in an identity.json, for messages only.
peer_id() {
  sed -n 's/.*"peerId"[[:space:]]*:[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$1" | sed -n 1p
}

# The config's "board": a profile id, or auto when the config or the key is absent.
# The config is JSON written by `edge-agent provision`; "board" is a top-level string
# whose value the schema limits to [a-z0-9-], and no other key of the schema has that name.
board_of() {
  b=
  if [ -f "$1" ]; then
    b=$(tr '\n\r\t' '   ' <"$1" | sed -n 's/.*"board"[[:space:]]*:[[:space:]]*"\([a-z0-9-]*\)".*/\1/p')
  fi
  say "${b:-auto}"
}

# "id|ptp" of the profile the agent will pick, as board/detect.ts does: the configured
# id, else the longest profile model string the device tree's model starts with, else the
# fallback profile of the bundle's architecture. BOARD_TABLE holds "id|ptp|arch|model".
profile_of() {
  if [ "$1" != auto ]; then
    printf '%s\n' "$BOARD_TABLE" | awk -F'|' -v id="$1" '$1 == id { print $1 "|" $2; exit }'
    return 0
  fi
  model=
  if [ -r "$R/proc/device-tree/model" ]; then
    model=$(tr -d '\000' <"$R/proc/device-tree/model" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
  fi
  printf '%s\n' "$BOARD_TABLE" | awk -F'|' -v m="$model" -v arch="$BUNDLE_ARCH" '
    $4 != "" && m != "" && (m == $4 || index(m, $4 " ") == 1) && length($4) > best { best = length($4); pick = $1 "|" $2 }
    $4 == "" && $3 == arch { fallback = $1 "|" $2 }
    END { if (pick != "") print pick; else if (fallback != "") print fallback }'
}

systemd_running() {
  [ -z "$R" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# --- checks that must pass before anything is touched -----------------------------

check_board() {
  [ -d "$BOARD" ] || die "--board $BOARD: not a directory"
  [ -f "$BOARD/config.json" ] || die "--board $BOARD: no config.json (expected a board directory from edge-agent provision)"
  [ -d "$BOARD/state" ] || die "--board $BOARD: no state/ folder (expected a board directory from edge-agent provision)"
  [ -f "$BOARD/state/identity.json" ] || die "--board $BOARD: no state/identity.json"
  for f in "$BOARD"/state/*; do
    [ -e "$f" ] || continue
    if [ ! -f "$f" ] || [ -L "$f" ]; then die "--board $BOARD: state/${f##*/} is not a regular file"; fi
  done
  # A board keeps its identity: never replace one key file with a different one.
  state=$R/var/lib/$NAME
  if [ -f "$state/identity.json" ] && ! cmp -s "$state/identity.json" "$BOARD/state/identity.json"; then
    die "${R:-}/var/lib/$NAME already holds the identity of peer $(peer_id "$state/identity.json"), not the one in $BOARD (peer $(peer_id "$BOARD/state/identity.json")); refusing to replace a board's identity (uninstall with --purge first to re-provision this root on purpose); nothing was changed"
  fi
  for f in "$BOARD"/state/*; do
    [ -e "$f" ] || continue
    t=$state/${f##*/}
    if [ -e "$t" ] && ! cmp -s "$t" "$f"; then
      die "$t exists and differs from $f; refusing to replace key material; nothing was changed"
    fi
  done
}

# --- install ----------------------------------------------------------------------

ensure_user() {
  mkdir -p "$R/etc"
  if ! grep -q "^$NAME:" "$R/etc/passwd" 2>/dev/null; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
      if [ -z "$R" ]; then
        systemd-sysusers "/usr/lib/sysusers.d/$NAME.conf"
      else
        systemd-sysusers --root="$R" "$R/usr/lib/sysusers.d/$NAME.conf"
      fi
    else
      # No systemd-sysusers: the same account through shadow's tools (what the sysusers file says).
      if [ -z "$R" ]; then set --; else set -- --prefix "$R"; fi
      grep -q "^$NAME:" "$R/etc/group" 2>/dev/null || groupadd "$@" --system "$NAME"
      useradd "$@" --system --gid "$NAME" --home-dir "/var/lib/$NAME" --no-create-home \
        --shell /usr/sbin/nologin --comment "edge-agent fleet agent" "$NAME"
    fi
  fi
  # Numeric ids from the root's own files, so that a root other than / gets its owners.
  uid=$(awk -F: -v n="$NAME" '$1 == n { print $3; exit }' "$R/etc/passwd")
  gid=$(awk -F: -v n="$NAME" '$1 == n { print $4; exit }' "$R/etc/passwd")
  if [ -z "$uid" ] || [ -z "$gid" ]; then die "no user $NAME in ${R:-}/etc/passwd after creating it"; fi
}

install_lib() {
  lib=$R/usr/lib/$NAME
  old=$R/usr/lib/.$NAME.old
  STAGE=$R/usr/lib/.$NAME.new
  rm -rf "$STAGE" "$old"
  mkdir -p "$STAGE"
  cp -R "$BUNDLE/lib/." "$STAGE/"
  cp "$BUNDLE/bundle.json" "$STAGE/bundle.json"
  chown -R 0:0 "$STAGE"
  # Modes come from here, not from the bundle: the manifest covers contents, not modes.
  chmod -R u=rwX,go=rX,ug-s,a-t "$STAGE"
  if [ -f "$STAGE/node/bin/node" ]; then chmod 0755 "$STAGE/node/bin/node"; fi
  # Upgrade in place: the new tree is complete before it takes the name.
  if [ -e "$lib" ]; then mv "$lib" "$old"; fi
  mv "$STAGE" "$lib"
  STAGE=
  rm -rf "$old"
}

install_board() {
  install_file "$BOARD/config.json" "$R/etc/$NAME/config.json" 0640 "0:$gid"
  kept=0
  for f in "$BOARD"/state/*; do
    [ -e "$f" ] || continue
    t=$R/var/lib/$NAME/${f##*/}
    if [ -e "$t" ]; then
      kept=$((kept + 1))
      continue
    fi
    install_file "$f" "$t" 0600 "$uid:$gid"
  done
  if [ "$kept" -gt 0 ]; then
    say "identity: peer $(peer_id "$R/var/lib/$NAME/identity.json") was already installed; kept it"
  else
    say "identity: peer $(peer_id "$R/var/lib/$NAME/identity.json") installed"
  fi
}

install_ptp_dropin() {
  dropin=$R/usr/lib/systemd/system/$NAME.service.d/ptp-hwclock.conf
  config=$R/etc/$NAME/config.json
  board=$(board_of "$config")
  line=$(profile_of "$board")
  if [ -z "$line" ]; then
    warn "board \"$board\" is not a profile this bundle knows; no PTP hardware clock drop-in"
    line="$board|0"
  fi
  if [ "${line#*|}" = 1 ]; then
    install_file "$BUNDLE/systemd/ptp-hwclock.conf" "$dropin" 0644 0:0
    say "board: ${line%%|*} (config: $board), PTP hardware clock: drop-in installed"
  else
    rm -f "$dropin"
    rmdir "${dropin%/*}" 2>/dev/null || true
    say "board: ${line%%|*} (config: $board), no PTP hardware clock: no drop-in"
  fi
  if [ ! -f "$config" ]; then
    say "note: no ${R:-}/etc/$NAME/config.json yet: install one with --board, or write it and run this again"
  fi
}

do_install() {
  [ "$(id -u)" = 0 ] || die "must run as root (or under fakeroot when filling an image)"
  if [ -n "$BOARD" ]; then check_board; fi

  install_file "$BUNDLE/systemd/sysusers.d/$NAME.conf" "$R/usr/lib/sysusers.d/$NAME.conf" 0644 0:0
  ensure_user

  mkdir -p "$R/etc/$NAME" "$R/var/lib/$NAME" "$R/var/log/$NAME"
  chown "0:$gid" "$R/etc/$NAME"
  chmod 0750 "$R/etc/$NAME"
  chown "$uid:$gid" "$R/var/lib/$NAME" "$R/var/log/$NAME"
  chmod 0700 "$R/var/lib/$NAME"
  chmod 0750 "$R/var/log/$NAME"

  install_lib
  install_file "$BUNDLE/bin/$NAME" "$R/usr/bin/$NAME" 0755 0:0
  install_file "$BUNDLE/systemd/$NAME.service" "$R/usr/lib/systemd/system/$NAME.service" 0644 0:0
  if [ -n "$BOARD" ]; then install_board; fi
  install_ptp_dropin

  say "installed $NAME $BUNDLE_VERSION (linux-$BUNDLE_ARCH) into ${R:-/} (user $NAME, uid $uid)"
  if systemd_running; then
    systemctl daemon-reload || warn "systemctl daemon-reload failed"
    if systemctl is-active --quiet "$NAME.service"; then
      say "the running agent is the previous version: systemctl restart $NAME"
    else
      say "to start it now and at boot: systemctl enable --now $NAME"
    fi
  elif [ -z "$R" ]; then
    say "to start it at boot: systemctl enable $NAME"
  fi
}

do_uninstall() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  if systemd_running; then systemctl disable --now "$NAME.service" 2>/dev/null || true; fi
  if [ -d "$R/etc/systemd/system" ]; then
    find "$R/etc/systemd/system" -type l -name "$NAME.service" -exec rm -f {} +
  fi
  rm -rf "$R/usr/lib/$NAME" "$R/usr/lib/.$NAME.new" "$R/usr/lib/.$NAME.old"
  rm -f "$R/usr/bin/$NAME" "$R/usr/lib/systemd/system/$NAME.service" \
    "$R/usr/lib/systemd/system/$NAME.service.d/ptp-hwclock.conf" "$R/usr/lib/sysusers.d/$NAME.conf"
  rmdir "$R/usr/lib/systemd/system/$NAME.service.d" 2>/dev/null || true
  if [ "$PURGE" = 1 ]; then
    rm -rf "$R/etc/${NAME:?}" "$R/var/lib/${NAME:?}" "$R/var/log/${NAME:?}"
    say "uninstalled $NAME from ${R:-/} and purged its config, state and logs (the user $NAME stays)"
  else
    say "uninstalled $NAME from ${R:-/}; kept ${R:-}/etc/$NAME, ${R:-}/var/lib/$NAME and ${R:-}/var/log/$NAME (--purge removes them)"
  fi
  if systemd_running; then systemctl daemon-reload || true; fi
}

# --- main -------------------------------------------------------------------------

main() {
  ROOT=${DESTDIR:-/}
  BOARD=
  MODE=install
  PURGE=0
  while [ $# -gt 0 ]; do
    case $1 in
      --root | --board)
        [ $# -ge 2 ] || usage_error "$1 needs a directory"
        if [ "$1" = --root ]; then ROOT=$2; else BOARD=$2; fi
        shift 2
        ;;
      --root=*) ROOT=${1#--root=}; shift ;;
      --board=*) BOARD=${1#--board=}; shift ;;
      --uninstall) MODE=uninstall; shift ;;
      --purge) PURGE=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown argument: $1" ;;
    esac
  done
  [ "$PURGE" = 0 ] || [ "$MODE" = uninstall ] || usage_error "--purge goes with --uninstall"
  [ -z "$BOARD" ] || [ "$MODE" = install ] || usage_error "--board goes with an install, not --uninstall"
  [ -n "$ROOT" ] || usage_error "--root needs a directory"
  [ -d "$ROOT" ] || die "root $ROOT is not a directory"
  R=$(CDPATH='' cd -- "$ROOT" && pwd -P)
  if [ "$R" = / ]; then R=; fi
  if [ -n "$BOARD" ]; then BOARD=$(CDPATH='' cd -- "$BOARD" 2>/dev/null && pwd -P) || die "--board: not a directory"; fi

  if [ "$MODE" = uninstall ]; then
    do_uninstall
    return 0
  fi
  self=$(readlink -f -- "$0")
  BUNDLE=${self%/*}
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-install.XXXXXX")
  verify_bundle
  do_install
}

main "$@"
