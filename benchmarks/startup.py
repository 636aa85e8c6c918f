"""Startup benchmark: how long the commands that build nothing take, against a bare interpreter.

    python -m benchmarks.startup              # 7 runs of each, medians
    python -m benchmarks.startup --runs 15 --json

Each command runs as a child process (a fresh interpreter, as a user or cron starts it):
`python -c pass` (the baseline: the interpreter alone), `python -m digest --help`, and
`digest status` on an empty state in a temporary folder; a `python -c "import digest.pipeline"`
row shows what a build pays for its stages' libraries before it starts. Medians in seconds of
wall-clock time and of CPU time (user + system, from the operating system's accounting of the
child: less swayed than the wall clock by other work on a busy machine), and each command's
excess over the baseline measured in the same run. The goal is `--help` and `status` under
0.3 s (wall clock).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 0.3


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of `runs` runs of `command` (after one untimed run that
    warms the file cache)."""
    subprocess.run(command, cwd=cwd, capture_output=True, check=True)
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_before = time.perf_counter(), children_cpu()
        subprocess.run(command, cwd=cwd, capture_output=True, check=True)
        wall.append(time.perf_counter() - started)
        cpu.append(children_cpu() - cpu_before)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        config = work / "digest.toml"
        config.write_text('[digest]\nout_dir = "out"\n', encoding="utf-8")
        commands = {
            "python -c pass": [python, "-c", "pass"],
            "digest --help": [python, "-m", "digest", "--help"],
            "digest status": [python, "-m", "digest", "status", "--config", str(config)],
            "import digest.pipeline": [python, "-c", "import digest.pipeline"],
        }
        medians = {name: timed(command, work, args.runs) for name, command in commands.items()}
    if args.json:
        rows = {name: {"wall_s": wall, "cpu_s": cpu} for name, (wall, cpu) in medians.items()}
        print(json.dumps({"runs": args.runs, "medians": rows}, indent=2))
        return
    base_wall, base_cpu = medians["python -c pass"]
    print(f"medians of {args.runs} runs, seconds")
    print(f"{'command':<24} {'wall':>7} {'cpu':>7} {'wall - base':>12} {'cpu - base':>11}")
    for name, (wall, cpu) in medians.items():
        print(
            f"{name:<24} {wall:>7.3f} {cpu:>7.3f} {wall - base_wall:>12.3f} {cpu - base_cpu:>11.3f}"
        )
    for name in ("digest --help", "digest status"):
        verdict = "within" if medians[name][0] < GOAL_SECONDS else "over"
        print(f"{name}: {verdict} the {GOAL_SECONDS} s goal (wall clock)")


if __name__ == "__main__":
    main()
