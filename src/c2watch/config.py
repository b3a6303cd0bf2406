"""One validated settings model: ``<home>/c2watch.toml`` overridden by ``C2WATCH_*`` environment variables.

Sections mirror the TOML file (``[observer]``, ``[schedule]``, ``[icmp]`` …). An environment variable overrides a
key as ``C2WATCH_<SECTION>__<KEY>``, e.g. ``C2WATCH_HTTP__USER_AGENT``. Unknown keys and bad values are refused
with the key named. ``C2WATCH_HOME`` chooses the data directory (default ``./c2watch-data``).
"""

from __future__ import annotations

import ipaddress
import os
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from c2watch.errors import ConfigError
from c2watch.models.kinds import DEFAULT_PROBES, PROBE_KINDS, AnswerProbe

__all__ = ["CONFIG_FILE", "Settings", "default_home", "load_settings"]

CONFIG_FILE = "c2watch.toml"
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

PositiveFloat = Annotated[float, Field(gt=0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class ObserverSettings(Section):
    """Who observes: the agent's name and its organisation (the STIX identities), and the local address its probes
    leave from (``source_address``; empty: the system's choice)."""

    name: str = Field("observer-01", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    organization: str = Field("Local CSIRT", min_length=1, max_length=200)
    zone: str = "Asia/Tokyo"
    key_file: str = Field("observer.key", min_length=1)
    source_address: str = ""

    _zone = field_validator("zone")(_check_zone)

    @field_validator("source_address")
    @classmethod
    def _source(cls, value: str) -> str:
        return str(ipaddress.ip_address(value)) if value else value

    def key_path(self, home: Path) -> Path:
        """The observer's private key file (``key_file``, relative to the data directory unless absolute)."""
        return home / Path(self.key_file).expanduser()


class ScheduleSettings(Section):
    """Cycles every ``interval_minutes`` from ``anchor`` in ``zone``. Each cycle starts ``stagger_seconds`` at most
    after its slot (a fixed offset derived from the observer name, so observers do not arrive together),
    plus a random delay of up to ``jitter_seconds`` (so no fixed period is visible)."""

    interval_minutes: int = Field(240, ge=1, le=10080)
    anchor: str = Field("00:00:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
    zone: str = "Asia/Tokyo"
    jitter_seconds: float = Field(600.0, ge=0)
    stagger_seconds: float = Field(1800.0, ge=0)

    _zone = field_validator("zone")(_check_zone)


class CycleSettings(Section):
    """What a cycle runs and how wide."""

    probes: list[str] = Field(default_factory=lambda: [str(kind) for kind in DEFAULT_PROBES])
    concurrency: int = Field(500, ge=1, le=100_000)
    write_stix: bool = True
    loop: Literal["uvloop", "asyncio"] = "uvloop"  # uvloop falls back to asyncio when not installed
    bundle_max_mb: float = Field(512, ge=0)
    """Split the cycle's STIX bundle into files of about this size (0: one file, however large)."""

    @property
    def bundle_max_bytes(self) -> int | None:
        return int(self.bundle_max_mb * 1024 * 1024) if self.bundle_max_mb else None

    @field_validator("probes")
    @classmethod
    def _known_probes(cls, value: list[str]) -> list[str]:
        unknown = [kind for kind in value if kind not in PROBE_KINDS]
        if unknown:
            raise ValueError(f"unknown probe kind(s) {unknown}; known: {list(PROBE_KINDS)}")
        return value


class IcmpSettings(Section):
    count: int = Field(4, ge=1, le=100)
    interval: PositiveFloat = 1.0
    timeout: PositiveFloat = 1.0
    mode: Literal["auto", "raw", "dgram"] = "auto"


class HttpSettings(Section):
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1)
    accept_encoding: str = "gzip, deflate"
    connect_timeout: PositiveFloat = 5.0
    total_timeout: PositiveFloat = 10.0
    max_body_bytes: int = Field(65536, ge=0, le=16 * 1024 * 1024)
    max_header_bytes: int = Field(65536, ge=1024, le=1024 * 1024)


class DnsSettings(Section):
    nameservers: list[str] = Field(default_factory=list)
    port: int = Field(53, ge=1, le=65535)
    timeout: PositiveFloat = 3.0

    @field_validator("nameservers")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for server in value:
            ipaddress.ip_address(server)
        return value


class TlsSettings(Section):
    timeout: PositiveFloat = 5.0


ProxiedKind = Literal["icmp", "http", "tls", "jarm", "favicon"]
_PROXY_SCHEMES = ("socks5h", "socks5", "http")


class ProxySettings(Section):
    """One proxy: ``url`` (``socks5h://[user:password@]host:port`` resolves names at the proxy, ``socks5://`` with
    IP addresses only, ``http://host:port`` for HTTP CONNECT) and the opaque ``label`` recorded with every
    observation made through it (the URL, which may hold credentials, is never recorded)."""

    url: str = Field(min_length=1)
    label: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in _PROXY_SCHEMES:
            raise ValueError(f"proxy scheme {parts.scheme!r} is not one of {list(_PROXY_SCHEMES)}")
        if not parts.hostname or parts.port is None:
            raise ValueError("a proxy URL names its host and port, e.g. socks5h://192.0.2.7:1080")
        return value


class EgressSettings(Section):
    """Which way the probes leave (docs/observer.md, "Deployment"). No ``proxies``: everything is direct. With
    proxies, one is picked per destination (``pick``: ``round-robin`` or ``random``) and every probe goes through
    it except the kinds listed in ``direct``; ICMP cannot go through a proxy, so it is refused unless listed in
    ``direct``. ``dns``: ``proxy`` leaves names to the proxy (the observer's resolver never asks for them; needs
    ``socks5h://`` or ``http://`` proxies), ``resolver`` resolves through ``[dns] nameservers`` and sends addresses.
    """

    proxies: list[ProxySettings] = Field(default_factory=list)
    pick: Literal["round-robin", "random"] = "round-robin"
    direct: list[ProxiedKind] = Field(default_factory=list)
    dns: Literal["proxy", "resolver"] = "proxy"

    @field_validator("proxies")
    @classmethod
    def _labels(cls, value: list[ProxySettings]) -> list[ProxySettings]:
        labels = [proxy.label for proxy in value]
        if len(set(labels)) != len(labels):
            raise ValueError("two proxies have the same label")
        return value

    @model_validator(mode="after")
    def _remote_names(self) -> EgressSettings:
        local = [p.label for p in self.proxies if urlsplit(p.url).scheme == "socks5"]
        if self.dns == "proxy" and local:
            raise ValueError(f"dns = 'proxy' needs socks5h:// or http:// proxies (socks5:// resolves here): {local}")
        return self


class SafetySettings(Section):
    """Networks that may be probed although they are loopback, private, reserved or documentation ranges, and
    reserved name suffixes (``example``, ``test``, ``invalid``, ``localhost``) that may be resolved.
    """

    allow_networks: list[str] = Field(default_factory=list)
    allow_domains: list[str] = Field(default_factory=list)

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(net, strict=False)) for net in value]


class StoreSettings(Section):
    """``url`` empty means the SQLite file ``c2watch.db`` in the data directory."""

    url: str = ""


def hub_urls(url: str | Sequence[str]) -> tuple[str, ...]:
    """The URLs of ``[hub] url`` (one, or a list), blanks left out."""
    urls = [url] if isinstance(url, str) else list(url)
    return tuple(u.strip() for u in urls if u.strip())


class HubSettings(Section):
    """For an agent: the hub to sync with (``url`` of its TAXII API root, e.g. ``https://hub.example/api/``, or a
    list of the URLs of its replicas, tried in turn: :attr:`urls`), this organisation's observer token and the largest
    answer it reads (``max_response_bytes``). For a hub: the largest
    request body and object it accepts, the most object bytes one page of a GET holds, and how ``/metrics`` is
    served (with ``metrics_token`` as a bearer token, or without one on the separate ``metrics_listen`` address;
    with neither, only an ``operator`` token reads it)."""

    url: str | list[str] = ""
    token: str = ""
    max_content_length: int = Field(20 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    max_object_bytes: int = Field(1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    max_page_bytes: int = Field(8 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=64 * 1024, le=4 * 1024 * 1024 * 1024)
    metrics_token: str = ""
    metrics_listen: str = Field("", pattern=r"^(|\[?[0-9A-Za-z.:-]+\]?:\d{1,5})$")
    sync_batch: int = Field(200, ge=1, le=10_000)
    timeout: PositiveFloat = 30.0

    @property
    def urls(self) -> tuple[str, ...]:
        """The hub's URLs in the order an agent tries them (none: no sharing)."""
        return hub_urls(self.url)


class EdlSettings(Section):
    """The deny lists firewalls poll from the local dashboard (``/edl/ip.txt``, ``domain.txt``, ``url.txt``): served
    only to a request carrying one of these tokens (Bearer, or the password of HTTP Basic auth); none set, none
    served. The hub serves the same lists to its organisation tokens."""

    tokens: list[Annotated[str, Field(min_length=16)]] = Field(default_factory=list)


class VerdictSettings(Section):
    """How the records of every observer become a verdict per destination (see docs/verdicts.md)."""

    answer_probes: list[AnswerProbe] = Field(default_factory=lambda: list[AnswerProbe](["http"]), min_length=1)
    alive_hours: PositiveFloat = 24.0
    dead_days: PositiveFloat = 30.0
    min_silent_cycles: int = Field(6, ge=1)
    blocked_windows: int = Field(3, ge=1)
    lookback_days: PositiveFloat = 2.0
    merge_hours: float = Field(24.0, ge=0)
    ttl_tolerance: int = Field(2, ge=0, le=255)
    hub_refresh_minutes: float = Field(5.0, ge=0)
    identity_min_changes: int = Field(2, ge=1, le=7)
    identity_stable_answers: int = Field(3, ge=1)
    identity_stay_days: float = Field(3.0, ge=0)
    signatures: list[Path] = Field(default_factory=list)


_REMOVABLE = ["dead", "reassigned", "parked", "domain-gone"]
_NOTES = {"sinkholed": "kept: the sinkhole answers now, so a hit means an infected host inside, not the attacker"}


class BlocklistSettings(Section):
    """Which verdicts let a value leave the deny list, and notes shown with the kept ones (see docs/verdicts.md)."""

    removable: list[str] = Field(default_factory=lambda: list(_REMOVABLE))
    notes: dict[str, str] = Field(default_factory=lambda: dict(_NOTES))

    @field_validator("removable")
    @classmethod
    def _statuses(cls, value: list[str]) -> list[str]:
        known = ("alive", "blocked-for-observer", "dormant", "dead", "never-seen", *_REMOVABLE[1:], "sinkholed")
        unknown = [status for status in value if status not in known]
        if unknown:
            raise ValueError(f"unknown status {', '.join(unknown)}; known: {', '.join(known)}")
        return value


class AlertSettings(Section):
    """Webhooks that receive every new event as a JSON POST (retried with back-off until delivered)."""

    webhooks: list[str] = Field(default_factory=list)
    secret: str = ""
    timeout: PositiveFloat = 10.0
    retry_min_seconds: PositiveFloat = 30.0
    retry_max_seconds: PositiveFloat = 1800.0

    @field_validator("webhooks")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"webhook {url!r} is not an http:// or https:// URL")
        if len(set(value)) != len(value):
            raise ValueError("a webhook is listed twice")
        return value


class RetentionSettings(Section):
    """Raw observations older than ``keep_days`` are rolled up into per-day summaries and removed (reports and the
    dashboard read both); STIX cycle files older than ``stix_keep_days`` are kept, compressed or deleted."""

    keep_days: int = Field(400, ge=1, le=36500)
    stix_files: Literal["keep", "compress", "delete"] = "keep"
    stix_keep_days: int = Field(30, ge=0, le=36500)
    partitions_ahead: int = Field(3, ge=1, le=36)
    daily: bool = True


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, env_prefix="C2WATCH_", env_nested_delimiter="__", toml_file=None
    )

    observer: ObserverSettings = ObserverSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    cycle: CycleSettings = CycleSettings()
    icmp: IcmpSettings = IcmpSettings()
    http: HttpSettings = HttpSettings()
    dns: DnsSettings = DnsSettings()
    tls: TlsSettings = TlsSettings()
    egress: EgressSettings = EgressSettings()
    safety: SafetySettings = SafetySettings()
    store: StoreSettings = StoreSettings()
    hub: HubSettings = HubSettings()
    edl: EdlSettings = EdlSettings()
    verdict: VerdictSettings = VerdictSettings()
    blocklist: BlocklistSettings = BlocklistSettings()
    alerts: AlertSettings = AlertSettings()
    retention: RetentionSettings = RetentionSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = init_settings.init_kwargs.pop("_toml_path", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


def default_home() -> Path:
    """The data directory: ``C2WATCH_HOME`` or ``./c2watch-data``."""
    return Path(os.environ.get("C2WATCH_HOME") or "c2watch-data")


def _describe(exc: ValidationError, origin: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        lines.append(f"{origin}: {key}: {err['msg']}")
    return "\n".join(lines)


def load_settings(home: Path | None = None, **overrides: Any) -> Settings:
    """Read ``<home>/c2watch.toml`` (if present) and the environment; raise :class:`ConfigError` naming the key."""
    path = (home or default_home()) / CONFIG_FILE
    kwargs: dict[str, Any] = dict(overrides)
    if path.exists():
        kwargs["_toml_path"] = path
    try:
        settings = Settings(**kwargs)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(path))) from exc
    except (OSError, ValueError) as exc:  # unreadable file, TOML syntax error
        raise ConfigError(f"{path}: {exc}") from exc
    return _resolved(settings, home or default_home())


def _resolved(settings: Settings, home: Path) -> Settings:
    """Relative signature files are read from the data directory."""
    files = [file if file.is_absolute() else home / file for file in settings.verdict.signatures]
    if files == settings.verdict.signatures:
        return settings
    return settings.model_copy(update={"verdict": settings.verdict.model_copy(update={"signatures": files})})
