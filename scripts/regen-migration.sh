#!/usr/bin/env bash
# Regenerate the initial migration from the models (allowed until the first release ships a database).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f src/masterplan/migrations/versions/0001_initial_schema.py
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from masterplan.db import make_engine
from masterplan.runtime import alembic_config
engine = make_engine(f"sqlite:///{sys.argv[1]}/gen.db")
command.revision(alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
PY
.venv/bin/ruff format -q src/masterplan/migrations
.venv/bin/ruff check --fix -q src/masterplan/migrations || true
rm -rf "$tmp"
