"""Regenerate the README's sample output: run one problem of the default suite and paste
what ``matrixbench run`` printed between the README's ``sample-output`` markers.

    .venv/bin/python scripts/readme_sample.py          # measures (a few seconds), rewrites README.md

Nothing in that block is typed by hand: ``tests/test_readme.py`` checks that it carries
this script's command and that its cell counts match today's plan of the same filter.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FILTER = "sqrtm/spd(batch=1,cond=100,n=64,*/inverse=false/*/cpu"
COMMAND = ["run", "default", "--filter", FILTER, "--no-report", "--no-calibrate"]
BEGIN, END = "<!-- sample-output:begin -->", "<!-- sample-output:end -->"


def sample() -> str:
    """What ``matrixbench run`` prints for the sample problem, with the temporary paths cut."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COLUMNS": "150", "NO_COLOR": "1", "TERM": "dumb"}
        res = subprocess.run([sys.executable, "-m", "matrixbench", *COMMAND, "--results", tmp], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=False)
        if res.returncode not in (0, 1):
            raise SystemExit(f"matrixbench run failed ({res.returncode}):\n{res.stderr}")
        return "\n".join(line.rstrip() for line in res.stdout.replace(tmp, "results").splitlines()).strip()


def shown() -> str:
    """The command as a user types it."""
    return shlex.join(["matrixbench", *COMMAND])


def block(text: str) -> str:
    machine = subprocess.run([sys.executable, "-c", "import platform; print(platform.processor() or platform.machine())"],
                             capture_output=True, text=True).stdout.strip()
    return (f"{BEGIN}\n`{shown()}` on {machine}, {os.cpu_count()} cores, {date.today()} "
            f"(made by `scripts/readme_sample.py`):\n\n```\n{text}\n```\n{END}")


def main() -> None:
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block")
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block(sample()), text, flags=re.S)
    README.write_text(new)
    print("README.md: sample output regenerated")


if __name__ == "__main__":
    main()
