"""Peak memory of every process a command starts, read from /proc while it runs.

Each process's own high-water mark (`VmHWM`) is read every `interval` seconds, so a process
living at least one interval is seen at its peak, not at the moment of a sample.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")


def _parents() -> dict[int, int]:
    parents = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone between listing and reading
            continue
        # the command name may hold spaces and parentheses: fields start after the last ")"
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def plugin_name(argv: list[str]) -> str:
    """`tap-autopilot` for `.../venv/bin/python .../venv/bin/tap-autopilot --config ...`."""
    args = [a for a in argv if a]
    if not args:
        return "?"
    first = os.path.basename(args[0])
    if first.startswith("python") and len(args) > 1:
        rest = args[1:]
        if rest[0] == "-m" and len(rest) > 1:
            return rest[1]
        return os.path.basename(rest[0])
    return first


def _peak_kb(pid: int) -> tuple[str, int] | None:
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return plugin_name(argv), int(line.split()[1])
    return None  # a zombie has no memory lines


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one live process (its own, not its children's)."""
    fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakMemory:
    """Samples the tree under `root` in a thread; `peaks_mb` maps executable name -> MB, and
    `cpu_by_name` the CPU seconds last seen of each process, summed by name (a process's last
    interval before it ends is not seen: the totals come from rusage, this is the split)."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root, self.interval = root, interval
        self.peaks_kb: dict[str, int] = {}
        self._cpu: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> None:
        for pid in descendants(self.root):
            seen = _peak_kb(pid)
            if seen:
                name, kb = seen
                self.peaks_kb[name] = max(self.peaks_kb.get(name, 0), kb)
                try:
                    self._cpu[pid] = (name, cpu_seconds(pid))
                except (OSError, IndexError):  # gone since
                    pass

    @property
    def cpu_by_name(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, cpu in self._cpu.values():
            totals[name] = totals.get(name, 0.0) + cpu
        return {name: round(cpu, 1) for name, cpu in sorted(totals.items())}

    @property
    def peaks_mb(self) -> dict[str, float]:
        return {name: round(kb / 1024, 1) for name, kb in sorted(self.peaks_kb.items())}
