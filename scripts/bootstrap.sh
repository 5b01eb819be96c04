# shellcheck shell=bash
# Sourced by scripts/test, scripts/run and scripts/demo: makes .venv with mailguard installed.
# Installs the exact versions of requirements.lock (written by scripts/lock). Re-installs only
# when pyproject.toml or the lock changed, so repeated runs start fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-}"

pick_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "mailguard needs Python 3.11 or newer; none found on PATH" >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PY="$(pick_python)"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            "$PY" -m venv "$VENV"
        else
            echo "cannot create a virtualenv: install python3-venv" >&2
            exit 1
        fi
    fi
fi

STAMP="$VENV/.mailguard-installed${EXTRAS:+-$EXTRAS}"
HASH="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
    echo "==> installing mailguard${EXTRAS:+[$EXTRAS]} into .venv"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -c "$ROOT/requirements.lock" -e "$ROOT${EXTRAS:+[$EXTRAS]}"
    echo "$HASH" >"$STAMP"
fi
export PATH="$VENV/bin:$PATH"
