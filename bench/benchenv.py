"""What every benchmark here shares: a throwaway Storybank to run in, and a description of the machine."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DOMAIN_WORDS = (
    "customer question answer inbox email meeting onboarding buddy pipeline spreadsheet report sales "
    "support ticket release deploy incident outage review feedback design research interview hiring "
    "budget forecast invoice contract supplier warehouse scanner label shift rota schedule training "
    "mentor expert wiki document template checklist automation script dashboard metric data query "
    "customer partner demo pricing proposal migration backup server network laptop printer office "
    "travel visa holiday payroll expense audit compliance security password access account project"
).split()


def configure(workdir: Path, database_url: str | None = None) -> None:
    """Point Django at a fresh database (SQLite in `workdir` unless `database_url`), index and media there.

    A `database_url` must name an empty database made for the benchmark: its tables are created
    and filled, and it is left for whoever made it to drop.
    """
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "storybank.settings",
            "STORYBANK_VAR_DIR": str(workdir),
            "DATABASE_URL": database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "SEARCH_INDEX_DIR": str(workdir / "search-index"),
            "MEDIA_ROOT": str(workdir / "media"),
            "LOG_LEVEL": "WARNING",
            "DEBUG": "1",
        }
    )
    os.environ.pop("ELASTICSEARCH_URL", None)
    os.environ.pop("STORYBANK_SEARCH_BACKEND", None)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_machine() -> None:
    """The command, the machine and its load: printed before any figure, so a figure is never alone."""
    print(f"Command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"Machine: {cpu_model()} · {os.cpu_count()} CPUs · {platform.system()} {platform.release()}")
    print(f"Python {platform.python_version()} · SQLite {sqlite3.sqlite_version}")
    print(
        f"Load average at start: {' '.join(f'{value:.1f}' for value in os.getloadavg())} (a shared machine)"
    )
