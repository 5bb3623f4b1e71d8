#!/usr/bin/env bash
# One-box install and start: virtual environment, dependencies, settings with fresh keys (first run only),
# the embedded database, migrations, the first admin, then every role on http://127.0.0.1:8080/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
scripts/script-sandbox.sh

if [ ! -f .env ]; then
  umask 077
  key() { .venv/bin/python -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())'; }
  secret() { .venv/bin/python -c 'import secrets;print(secrets.token_urlsafe(48))'; }
  cat > .env <<ENV
# Written by scripts/run.sh on first run for this one-box install; see .env.example for every setting.
SECRET_KEY=$(secret)
AUTH_SECRET=$(secret)
FLOMATION_ENCRYPTION_KEY=$(key)
FLOMATION_ROLES=all
FLOMATION_BIND=${FLOMATION_BIND:-127.0.0.1:8080}
FLOMATION_PUBLIC_URL=${FLOMATION_PUBLIC_URL:-http://127.0.0.1:8080}
# Plain HTTP on this machine: cookies cannot be marked Secure. Put TLS in front before exposing it.
AUTH_COOKIE_SECURE=false
SESSION_COOKIE_SECURE=false
CSRF_COOKIE_SECURE=false
ENV
  echo "Wrote .env with new random keys (keep it; it decrypts your secrets)."
fi

.venv/bin/python manage.py migrate --no-input
admin_email="${FLOMATION_ADMIN_EMAIL:-admin@localhost}"
.venv/bin/python manage.py create_admin --email "$admin_email"
# Where serve really listens: FLOMATION_BIND from the environment wins over .env (as in settings).
bind="${FLOMATION_BIND:-$(grep -E '^FLOMATION_BIND=' .env | cut -d= -f2- || true)}"
bind="${bind:-0.0.0.0:8080}"
host="${bind%:*}"
case "$host" in "" | 0.0.0.0 | "*") host=127.0.0.1 ;; "[::]") host="[::1]" ;; esac
url="http://${host}:${bind##*:}"
public="${FLOMATION_PUBLIC_URL:-$(grep -E '^FLOMATION_PUBLIC_URL=' .env | cut -d= -f2- || true)}"
echo
echo "Flomation is starting at ${url}/ — log in as $admin_email."
if [ -n "$public" ] && [ "${public%/}" != "$url" ]; then
  echo "Links it sends (emails, webhook addresses) use FLOMATION_PUBLIC_URL=${public}."
fi
echo "Stop it with Ctrl-C."
exec .venv/bin/python manage.py serve --role all
