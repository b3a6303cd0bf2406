"""Write ``scenario.toml``: 47 lab destinations whose monthly behaviour gives the paper's Table 1.

Each destination has one letter per observed month (Jan Feb Mar Apr Jul 2021, JST):
``F`` answers every cycle, ``t`` is the threat's tuner that month (``rate:P:status:200``), ``.`` is closed and
``s`` answers nothing (empty reply). The tuner's P is chosen from the lab's deterministic draw so that the threat
hits its Table 1 cell exactly: with k destinations and n cycles in the month, round(rate x k x n) answers.
A few destinations carry the paper's stories (C's 200 → 404 → 500 → silent URL, D's 404-with-occasional-500 gate).

    python examples/table1/make_scenario.py > examples/table1/scenario.toml
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import tomli_w

from c2watch.lab import rate_answers
from c2watch.lab.trial import TABLE1, TABLE1_MONTHS

JST = dt.timezone(dt.timedelta(hours=9))
SEED = 2021
SLOT = dt.timedelta(hours=4)
NETWORK = "127.21.0.0/16"
#: A fixed port outside the ephemeral range: a port-0 destination that starts closed only reserves a number, which
#: another socket on the machine may take before the destination first listens.
PORT = 18080

PLANS: dict[str, list[str]] = {
    "A": ["FFFFF", "FFFFt", "FFFFF", "FttF.", "F..t.", "t....", "s....", "....."],
    "B": ["t..t.", ".tt..", "s....", ".....", ".....", "....."],
    "C": ["FFFFs", "FFttF", "FtFFF", "F...F", "t...t", ".....", "s....", "....."],
    "D": ["Ftsss", "FFFFF", "F.tFt", "tFFFF", "...t.", ".....", "s....", "....."],
    "E": ["....F", "....F", "....F", "....F"],
    "F": ["....F", "....t", "....s", "....."],
    "G": ["....F", "....F", "....F"],
    "H": ["....s", ".....", "....."],
    "I": ["....t", "....s", "....."],
}
#: Full-month behaviour other than status:200: (destination, month index) -> timeline steps (day, hour, behaviour).
STORIES: dict[tuple[str, int], list[tuple[int, int, str]]] = {
    ("c-01", 2): [(1, 0, "status:404"), (15, 0, "status:500")],
    ("c-01", 3): [(1, 0, "status:500")],
    ("d-01", 0): [
        (1, 0, "status:404"),
        (9, 8, "status:500"),
        (9, 12, "status:404"),
        (21, 16, "status:500"),
        (21, 20, "status:404"),
    ],
}
SUMMARIES = {
    "c-01": "200 OK (Jan-Feb), 404 (March), 500 two weeks later (April), silent in July",
    "d-01": "404 with occasional 500 (January), 200 flapping (February), silent from March",
}


def month_start(month: str) -> dt.datetime:
    year, number = map(int, month.split("-"))
    return dt.datetime(year, number, 1, tzinfo=JST)


def slots(month: str) -> list[dt.datetime]:
    start, index = month_start(month), TABLE1_MONTHS.index(month)
    end = month_start("2021-08" if month == "2021-07" else TABLE1_MONTHS[index + 1])
    end = min(end, month_start("2021-05")) if month == "2021-04" else end
    return [start + SLOT * i for i in range(int((end - start) / SLOT))]


def tuned_probability(name: str, month: str, answers: int) -> float:
    """A probability giving exactly ``answers`` hits of the deterministic draw over the month's slots."""
    draws = sorted(_draw(name, at) for at in slots(month))
    low, high = draws[answers - 1], draws[answers] if answers < len(draws) else 1.0
    for digits in range(3, 12):
        value = round((low + high) / 2, digits)
        if low < value <= high:
            return value
    return high


def _draw(name: str, at: dt.datetime) -> float:
    """The lab's draw for ``name`` at ``at`` (bisected: rate_answers only says below or above)."""
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (low, middle) if rate_answers(name, at, middle, seed=SEED, slot_seconds=14400) else (middle, high)
    return high


def month_behaviours(threat: str) -> dict[tuple[str, int], str]:
    """(destination, month index) -> behaviour, the tuner's probability solved for the Table 1 cell."""
    plan, (_reported, rates) = PLANS[threat], TABLE1[threat]
    chosen: dict[tuple[str, int], str] = {}
    for index, month in enumerate(TABLE1_MONTHS):
        if rates[index] is None:
            continue
        n = len(slots(month))
        wanted = round(rates[index] / 100 * len(plan) * n)
        full = sum(row[index] == "F" for row in plan)
        for number, row in enumerate(plan, 1):
            name, letter = f"{threat.lower()}-{number:02d}", row[index]
            if letter == "t":
                chosen[name, index] = f"rate:{tuned_probability(name, month, wanted - full * n)}:status:200"
            else:
                chosen[name, index] = {"F": "status:200", ".": "closed", "s": "silent"}[letter]
    return chosen


def timeline(name: str, behaviours: dict[tuple[str, int], str]) -> list[dict[str, Any]]:
    steps: list[tuple[dt.datetime, str]] = []
    for index, month in enumerate(TABLE1_MONTHS):
        if (name, index) not in behaviours:
            continue
        start = month_start(month)
        story = STORIES.get((name, index)) if behaviours[name, index] == "status:200" else None
        for day, hour, text in story or [(1, 0, behaviours[name, index])]:
            steps.append((start.replace(day=day, hour=hour), text))
        if month == "2021-04":
            steps.append((month_start("2021-05"), "closed"))
    merged = [step for i, step in enumerate(steps) if i == 0 or step[1] != steps[i - 1][1]]
    return [{"start": at, "behaviour": text} for at, text in merged]


def destinations() -> list[dict[str, Any]]:
    result = []
    for t_index, threat in enumerate(PLANS):
        behaviours = month_behaviours(threat)
        reported = dt.date.fromisoformat(TABLE1[threat][0] + "-01")
        for number, row in enumerate(PLANS[threat], 1):
            name = f"{threat.lower()}-{number:02d}"
            dest = {
                "name": name,
                "threat_id": threat,
                "address": f"127.21.{t_index + 1}.{number}",
                "port": PORT,
                "path": "/gate.php",
                "reported_on": reported,
                "timeline": timeline(name, behaviours),
                "summary": SUMMARIES.get(name, f"Table 1 threat {threat}: {' '.join(row)}"),
            }
            if set(row) <= {".", "s"}:
                dest["ping"] = "drop"
            result.append(dest)
    return result


def main() -> None:
    phases = [
        {"threats": ["A", "B", "C", "D"], "start": month_start("2021-01"), "end": month_start("2021-05")},
        {"threats": list(PLANS), "start": month_start("2021-07"), "end": month_start("2021-08")},
    ]
    header = "# Generated by examples/table1/make_scenario.py: the paper's trial (Table 1) in the lab.\n"
    body = {"seed": SEED, "network": NETWORK, "phase": phases, "destination": destinations()}
    sys.stdout.write(header + tomli_w.dumps(body))


if __name__ == "__main__":
    main()
