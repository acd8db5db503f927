#!/usr/bin/env bash
# Debian packages Pli needs on a development or CI machine (run as root, idempotent, fast
# when everything is already there). The project runs its OWN Dovecot and Postfix instances
# (see devmail/), so the system daemons the packages may start are stopped again here and
# their default configuration is left alone.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-system.sh: must run as root (apt-get, useradd)" >&2
  exit 1
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(dovecot-imapd dovecot-lmtpd postfix chromium fonts-dejavu-core openssl
  ca-certificates python3 nodejs npm make)

installed() {
  # nodejs from other Debian-format repositories ships npm itself ("Provides: npm").
  case $1 in
    npm) command -v npm >/dev/null 2>&1 && return 0 ;;
    nodejs) command -v node >/dev/null 2>&1 && return 0 ;;
  esac
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done

lists_usable() {
  local package
  compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null || return 1
  for package in "$@"; do
    apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [^(]' || return 1
  done
}

if ((${#missing[@]})); then
  echo "install-system.sh: installing ${missing[*]}"
  # "No configuration": the postinst must neither ask questions nor write a main.cf that
  # makes the system Postfix listen on port 25.
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  lists_usable "${missing[@]}" || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# A postinst may have started the system daemons (with their default configuration):
# stop them so nothing is left on ports 25/143/993; ours run from var/devmail.
if [[ -s /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  echo "install-system.sh: stopping the system Dovecot"
  dovecot stop || true
fi
if [[ -f /etc/postfix/main.cf ]] && postfix status >/dev/null 2>&1; then
  echo "install-system.sh: stopping the system Postfix"
  postfix stop || true
fi

# The mail uid/gid of every virtual mailbox (Dovecot mail_uid, Postfix pipe user).
if ! getent group plimail >/dev/null; then
  groupadd --system plimail
fi
if ! getent passwd plimail >/dev/null; then
  useradd --system --gid plimail --home-dir "$REPO/var/devmail" --no-create-home \
    --shell /usr/sbin/nologin --comment "Pli development mail" plimail
fi

for user in dovecot dovenull postfix; do
  getent passwd "$user" >/dev/null || {
    echo "install-system.sh: system user $user is missing; reinstall its package" >&2
    exit 1
  }
done
echo "install-system.sh: system packages ready"
