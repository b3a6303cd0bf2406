"""``[egress]``: each bad value refused with its key named; how a proxy is picked per destination."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from c2watch.config import EgressSettings, load_settings
from c2watch.errors import ConfigError
from c2watch.probes.egress import Egress, ProxyRoute

SOCKS = {"url": "socks5h://192.0.2.7:1080", "label": "a"}


@pytest.mark.parametrize(
    ("egress", "message"),
    [
        ('proxies = [{url = "ftp://192.0.2.7:21", label = "a"}]', "egress.proxies.0.url: Value error, proxy scheme"),
        ('proxies = [{url = "socks5h://192.0.2.7", label = "a"}]', "names its host and port"),
        ('proxies = [{url = "http://192.0.2.7:3128", label = "a b"}]', "egress.proxies.0.label"),
        (
            'proxies = [{url = "http://192.0.2.7:3128", label = "a"}, {url = "http://192.0.2.8:3128", label = "a"}]',
            "two proxies have the same label",
        ),
        ('proxies = [{url = "socks5://192.0.2.7:1080", label = "a"}]', "dns = 'proxy' needs socks5h:// or http://"),
        ('direct = ["dns"]', "egress.direct.0"),
        ('pick = "first"', "egress.pick"),
    ],
)
def test_bad_egress_is_refused_naming_the_key(tmp_path: Path, egress: str, message: str) -> None:
    (tmp_path / "c2watch.toml").write_text(f"[egress]\n{egress}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(tmp_path / "c2watch.toml") in str(caught.value) and message in str(caught.value)


def test_socks5_with_local_resolution_is_fine_with_a_resolver() -> None:
    settings = EgressSettings(proxies=[{"url": "socks5://192.0.2.7:1080", "label": "a"}], dns="resolver")  # type: ignore[list-item]
    route = Egress(settings).routes["a"]
    assert (route.host, route.port, route.remote_names) == ("192.0.2.7", 1080, False)


def test_credentials_stay_out_of_the_route_repr() -> None:
    settings = EgressSettings(proxies=[{"url": "socks5h://user:secret@192.0.2.7:1080", "label": "a"}])  # type: ignore[list-item]
    route = Egress(settings).routes["a"]
    assert route.password == "secret" and "secret" not in repr(route) and route.remote_names


def picks(pick: str, n: int) -> Counter[str]:
    proxies: list[Any] = [{**SOCKS, "label": label} for label in ("a", "b", "c")]
    egress = Egress(EgressSettings(proxies=proxies, pick=pick), random.Random(7))  # type: ignore[arg-type]
    return Counter(egress.pick() for _ in range(n))


def test_round_robin_takes_each_proxy_in_turn() -> None:
    assert picks("round-robin", 9) == {"a": 3, "b": 3, "c": 3}


def test_random_spreads_destinations_over_every_proxy() -> None:
    counts = picks("random", 3000)
    assert set(counts) == {"a", "b", "c"} and min(counts.values()) > 800


def test_without_proxies_every_probe_is_direct() -> None:
    egress = Egress(EgressSettings())
    assert not egress.active and egress.pick() == "" and egress.direct("icmp") and egress.direct("http")
    assert isinstance(ProxyRoute.of(EgressSettings(proxies=[SOCKS]).proxies[0]), ProxyRoute)  # type: ignore[list-item]
