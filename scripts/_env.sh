# Shared by scripts/demo and scripts/test: find Python 3.11 and make the virtualenv.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    PY=$(command -v "$candidate"); break
  fi
done
if [ -z "$PY" ]; then
  echo "juki needs Python 3.11 (python3.11 が見つかりません)。 Debian: apt-get install python3.11 python3.11-venv" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
