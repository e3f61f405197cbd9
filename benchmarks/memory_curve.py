"""Peak RSS per process across sizes: is memory flat in the data?

`python -m benchmarks scale --sizes 10000,30000` runs the scale suite at each size and ends with
one table: each process's peak RSS (MB, its largest over the suite's steps) per size, and its
growth from the smallest size to the largest.
"""

from __future__ import annotations


def peaks_by_process(result: dict) -> dict[str, float]:
    """The largest peak RSS of each process over a scale result's steps (the trivial
    pipeline's rows excluded: they are the yardstick, not the toolkit)."""
    peaks: dict[str, float] = {}
    for row in result["rows"]:
        if row["step"].startswith("trivial pipeline"):
            continue
        for name, mb in row["peak_rss_mb"].items():
            peaks[name] = max(peaks.get(name, 0.0), mb)
    return peaks


def curve(results: dict[int, dict]) -> str:
    sizes = sorted(results)
    by_size = {size: peaks_by_process(results[size]) for size in sizes}
    names = sorted({name for peaks in by_size.values() for name in peaks})
    lines = ["peak RSS per process (MB) by people: " + ", ".join(f"{s:,}" for s in sizes),
             f"{'process':<28}" + "".join(f"{s:>12,}" for s in sizes) + f"{'growth':>10}"]
    for name in names:
        values = [by_size[s].get(name) for s in sizes]
        cells = "".join(f"{'-' if v is None else v:>12}" for v in values)
        first, last = values[0], values[-1]
        growth = f"{last - first:+.1f}" if first is not None and last is not None else "-"
        lines.append(f"{name:<28}{cells}{growth:>10}")
    return "\n".join(lines)
