"""A worker-like process for the two-process tests: commits progress events (published via Redis or
PostgreSQL notifications), exits.

Run: python -m tests.realtime.producer DATA_DIR DATABASE_URL REDIS_URL|- PLAN_ID COUNT START [BLOB_BYTES]
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

from masterplan.config import Settings
from masterplan.runtime import build_runtime
from tests.realtime.support import record_progress


def main() -> None:
    data_dir, database_url, redis_url, plan_id, count, start = sys.argv[1:7]
    blob = "x" * int(sys.argv[7]) if len(sys.argv) > 7 else ""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=Path(data_dir),
        database_url=database_url,
        redis_url="" if redis_url == "-" else redis_url,
    )
    runtime = build_runtime(settings, migrate=False)
    try:
        for number in range(int(start), int(start) + int(count)):
            record_progress(runtime, uuid.UUID(plan_id), 1, start=number, source="worker", blob=blob)
            time.sleep(0.002)
    finally:
        runtime.close()  # publishes what is still queued before the process ends
    print("committed", count, flush=True)


if __name__ == "__main__":
    main()
