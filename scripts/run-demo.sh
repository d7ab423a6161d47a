#!/usr/bin/env bash
# `make run`: the service with its demo catalog and demo credentials on SQLite, on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var
export WINDOWSVC_DATABASE_URL="${WINDOWSVC_DATABASE_URL:-sqlite:///$PWD/var/windowsvc.db}"
if [ ! -f var/secret_key ]; then
  "$BIN/python" -c "import secrets; print(secrets.token_hex(32))" > var/secret_key
fi
export WINDOWSVC_SECRET_KEY="${WINDOWSVC_SECRET_KEY:-$(cat var/secret_key)}"

"$BIN/windowsvc" init

CREDENTIALS=var/demo-credentials.env
if [ ! -s "$CREDENTIALS" ]; then
  {
    make_token() { "$BIN/windowsvc" credentials create "$@" | tail -n 1; }
    echo "WINDOW_TOKEN=$(make_token --role window --name 综合窗口01-王芳)"
    echo "SUPERVISOR_TOKEN=$(make_token --role supervisor --department scjg --name 市场监管局-李科长)"
    echo "OVERSIGHT_TOKEN=$(make_token --role oversight --name 电子监察-赵敏)"
    echo "ADMIN_TOKEN=$(make_token --role admin --name 系统管理员)"
    echo "SCJG_TOKEN=$(make_token --role backoffice --department scjg --name 市场监管业务系统)"
  } > "$CREDENTIALS.tmp"
  mv "$CREDENTIALS.tmp" "$CREDENTIALS"
fi
STAFF=var/demo-staff.txt
if [ ! -s "$STAFF" ]; then
  {
    make_staff() {  # username role department name: a random password, printed once here
      local password
      password="$("$BIN/python" -c "import secrets; print(secrets.token_urlsafe(9))")"
      printf '%s\n' "$password" | "$BIN/windowsvc" staff create --username "$1" --role "$2" \
        ${3:+--department "$3"} --name "$4" >/dev/null
      printf '%-8s %-12s %s  (%s)\n' "$1" "$password" "$2${3:+/$3}" "$4"
    }
    make_staff clerk window "" 综合窗口01-王芳
    make_staff clerk2 window "" 综合窗口02-陈静
    make_staff chief supervisor scjg 市场监管局-李科长
    make_staff watch oversight "" 电子监察-赵敏
  } > "$STAFF.tmp"
  mv "$STAFF.tmp" "$STAFF"
fi
echo "Demo API credentials (also in $CREDENTIALS):"
sed 's/^/  /' "$CREDENTIALS"
echo "Demo staff accounts for the pages, username and password (also in $STAFF):"
sed 's/^/  /' "$STAFF"
export WINDOWSVC_BIND="${WINDOWSVC_BIND:-127.0.0.1:8000}"
# The demo's 2 workers on memory:// each count the citizen and sign-in throttles on their own
# (budgets up to 2x). Accepted for a demo on one machine; gunicorn refuses it otherwise
# (docs/operations.md "Throttling on several workers and nodes": use Redis in production).
if [ -z "${WINDOWSVC_RATELIMIT_STORAGE_URI:-}" ]; then
  export WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED="${WINDOWSVC_RATELIMIT_MEMORY_ACKNOWLEDGED:-true}"
fi
URL="http://$WINDOWSVC_BIND"
EVIDENCE_PORT="${EVIDENCE_PORT:-8001}"
# 一证通办: the engine asks the simulated shared-data service (served by `windowsvc simulate`).
export WINDOWSVC_EVIDENCE_SOURCE="${WINDOWSVC_EVIDENCE_SOURCE:-http://127.0.0.1:$EVIDENCE_PORT}"

trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT INT TERM
"$BIN/gunicorn" -c gunicorn.conf.py wsgi:app &
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && break
  sleep 0.2
done
echo "Serving on $URL  — open it in a browser and sign in (API docs: $URL/api/docs)"
echo "Simulated departments and a simulated window start now; watch cases flow with:"
echo "  curl -s -H \"Authorization: Bearer \$OVERSIGHT_TOKEN\" '$URL/api/v1/applications?per_page=5'"
"$BIN/windowsvc" simulate --url "$URL" --evidence-port "$EVIDENCE_PORT" --window-interval 10 &
# the timers (deemed acceptance, 容缺 deadlines, warnings, audit checkpoints) and the outbox
# (notices to applicants, appended to var/notices.jsonl)
"$BIN/windowsvc" sweep --every 60 > var/sweep.log 2>&1 &
"$BIN/windowsvc" dispatch > var/dispatch.log 2>&1 &
wait
