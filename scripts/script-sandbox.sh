#!/usr/bin/env bash
# Script nodes (script/python, script/bash) run inside bubblewrap (Debian package `bubblewrap`): install it
# when running as root, else print the exact command. Without it the executor refuses script nodes and says
# why (unless FLOMATION_SCRIPT_ISOLATION=process opts into the weaker plain-process mode).
set -euo pipefail
command -v bwrap >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Script nodes need bubblewrap, which is not installed: sudo apt-get install -y bubblewrap" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
