"""The probe kinds are declared once (c2watch.models.kinds); the registry and the settings follow them."""

from c2watch.config import Settings
from c2watch.models.kinds import ANSWER_PROBES, DEFAULT_PROBES, OPT_IN_PROBES, PROBE_KINDS
from c2watch.probes import PROBES


def test_one_probe_per_kind() -> None:
    assert tuple(PROBES) == PROBE_KINDS
    assert set(ANSWER_PROBES) < set(PROBE_KINDS)
    assert tuple(Settings().cycle.probes) == DEFAULT_PROBES == ("dns", "icmp", "http", "tls")
    assert set(DEFAULT_PROBES) | set(OPT_IN_PROBES) == set(PROBE_KINDS)
