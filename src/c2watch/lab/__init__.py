"""The lab: simulated C2 destinations on loopback addresses, for tests, benchmarks and the demo.

Everything binds to loopback only (127.0.0.0/8, ::1); a scenario naming any other address is
rejected.
"""

from c2watch.lab.behaviours import BEHAVIOUR_SYNTAX, BEHAVIOURS, Behaviour, parse_behaviour, rate_answers
from c2watch.lab.clock import Clock, FakeClock, utc_now
from c2watch.lab.demo import example_scenario, to_watchlist_csv
from c2watch.lab.lab import Lab, serve, with_lab_names
from c2watch.lab.loader import load_scenario, scenario_from_mapping
from c2watch.lab.scenario import Destination, PingMode, Scenario, ScenarioError
from c2watch.lab.server import Access, Hit
from c2watch.lab.tls import LabSetupError

__all__ = [
    "BEHAVIOURS",
    "BEHAVIOUR_SYNTAX",
    "Access",
    "Behaviour",
    "Clock",
    "Destination",
    "FakeClock",
    "Hit",
    "Lab",
    "LabSetupError",
    "PingMode",
    "Scenario",
    "ScenarioError",
    "example_scenario",
    "load_scenario",
    "parse_behaviour",
    "rate_answers",
    "scenario_from_mapping",
    "serve",
    "to_watchlist_csv",
    "utc_now",
    "with_lab_names",
]
