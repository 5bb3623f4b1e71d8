#!/usr/bin/env bash
# Debian packages the test suite uses: Chromium and its driver (editor browser tests), git (git_poll),
# dovecot (a real IMAP server for the email poller), openssh-server (the ssh, SFTP and git-over-ssh nodes'
# tests start their own sshd), wrk (the ingress benchmark), bubblewrap (the script nodes' sandbox), mosquitto
# and nats-server (brokers with a password or token that the broker tests start).
set -euo pipefail
packages=(chromium chromium-driver git dovecot-imapd openssh-server wrk bubblewrap mosquitto nats-server)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
