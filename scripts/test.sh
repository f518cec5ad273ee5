#!/usr/bin/env bash
# Install qinqing with its test dependencies, start what the tests need, run the suite.
# This is the README's test command; .ci/run runs exactly this.
#   - a virtualenv in .venv with qinqing installed editable, plus its [dev] extras
#   - Java (for PySpark local mode) and Debian's chromium (for the browser tests), via apt when missing
#   - a throwaway PostgreSQL 15 server on a temporary directory and a free port, stopped on exit
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k registry`.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[test.sh]\033[0m %s\n' "$*"; }

apt_install() {
    if [ "$(id -u)" = 0 ]; then
        log "installing with apt: $*"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        log "missing system packages ($*); install them with apt, or some tests will be skipped"
    fi
}

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium fonts-noto-cjk)
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
[ -n "$PG_BIN" ] || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then apt_install "${need_apt[@]}"; fi
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    "$PYTHON" -m venv .venv
fi
log "installing qinqing[dev] into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -vE '^(WARNING: Location|  )' || true

# A throwaway PostgreSQL server for the storage tests.
PGTMP=""
cleanup() {
    if [ -n "$PGTMP" ] && [ -d "$PGTMP" ]; then
        run_pg "$PG_BIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PGTMP"
    fi
}
trap cleanup EXIT
run_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ -n "$PG_BIN" ] && [ -z "${QINQING_TEST_POSTGRES_URL:-}" ]; then
    PGTMP="$(mktemp -d /tmp/qinqing-pg.XXXXXX)"
    [ "$(id -u)" = 0 ] && chown postgres "$PGTMP"
    PGPORT="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    run_pg "$PG_BIN/initdb" -D "$PGTMP/data" -U qinqing --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    run_pg "$PG_BIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w \
        -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    export QINQING_TEST_POSTGRES_URL="postgresql+psycopg://qinqing@127.0.0.1:$PGPORT/postgres"
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $PGPORT"
fi

command -v chromium >/dev/null 2>&1 && export QINQING_CHROMIUM="${QINQING_CHROMIUM:-$(command -v chromium)}"

log "running pytest"
.venv/bin/python -m pytest "$@"
