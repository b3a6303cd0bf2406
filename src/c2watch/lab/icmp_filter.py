"""Per-destination ICMP echo behaviour through an nftables table of the lab's own.

Besides the ping modes below, echo requests from a blocked source (an observer's address) are dropped, and
``ttl:N`` sets the TTL of the destination's echo replies on the ``output`` hook; the lab updates the rules as its
clock moves (``IcmpFilter.update``).

A destination with ``ping = "drop"`` gets its echo requests dropped on the ``input`` hook (so a
pinger sees a timeout, not a send error); ``loss:N`` drops an exact N % using a per-rule
``numgen inc`` counter (``loss:50`` drops every second request). The table is named
``c2watch_lab_<pid>_<random>``, created on lab start and deleted on stop, at interpreter exit, or
by a later lab once that pid is gone. Without root or ``nft`` nothing is applied: a warning is
logged and the lab reports ``icmp_controlled = False``.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import math
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Sequence

from c2watch.lab.scenario import PingMode

__all__ = ["TABLE_PREFIX", "IcmpFilter", "list_tables", "remove_stale_tables", "rules_at"]

log = logging.getLogger(__name__)

TABLE_PREFIX = "c2watch_lab_"
_FAMILY = "inet"
_TIMEOUT = 10.0
_STALE = re.compile(rf"{TABLE_PREFIX}(\d+)_[0-9a-f]+")


def _nft(args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    nft = shutil.which("nft")
    if nft is None:
        raise FileNotFoundError("nft")
    return subprocess.run([nft, *args], input=stdin, capture_output=True, text=True, check=False, timeout=_TIMEOUT)


def list_tables() -> list[str]:
    """Names of the ``inet`` tables that belong to some lab (empty when nft cannot be run)."""
    try:
        result = _nft(["list", "tables", _FAMILY])
    except (OSError, subprocess.SubprocessError):
        return []
    names = (line.split()[-1] for line in result.stdout.splitlines() if line.startswith("table"))
    return [name for name in names if name.startswith(TABLE_PREFIX)]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_tables() -> list[str]:
    """Delete the lab tables left by processes that no longer run; return their names."""
    removed = []
    for name in list_tables():
        match = _STALE.fullmatch(name)
        if match and not _pid_alive(int(match.group(1))):
            _nft(["delete", "table", _FAMILY, name])
            removed.append(name)
    return removed


def rule_for(address: str, mode: PingMode) -> str | None:
    """The input rule realising ``mode`` for ``address``; None when nothing is to be dropped."""
    if mode.loss == 0:
        return None
    ip = ipaddress.ip_address(address)
    match = f"ip daddr {ip} icmp" if ip.version == 4 else f"ip6 daddr {ip} icmpv6"
    rule = f"{match} type echo-request"
    if mode.loss < 100:
        divisor = math.gcd(mode.loss, 100)
        rule += f" numgen inc mod {100 // divisor} < {mode.loss // divisor}"
    return f"{rule} counter drop"


def block_rule(address: str, source: str) -> str | None:
    """The input rule dropping echo requests from ``source`` to ``address`` (None: different families)."""
    ip, src = ipaddress.ip_address(address), ipaddress.ip_address(source)
    if ip.version != src.version:
        return None
    if ip.version == 4:
        return f"ip saddr {src} ip daddr {ip} icmp type echo-request counter drop"
    return f"ip6 saddr {src} ip6 daddr {ip} icmpv6 type echo-request counter drop"


def ttl_rule(address: str, ttl: int) -> str:
    """The output rule setting the TTL (hop limit) of the echo replies ``address`` sends."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return f"ip saddr {ip} icmp type echo-reply ip ttl set {ttl}"
    return f"ip6 saddr {ip} icmpv6 type echo-reply ip6 hoplimit set {ttl}"


def rules_at(address: str, mode: PingMode, blocked: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """(input rules, output rules) realising ``mode`` (``follow`` already decided) and the ``blocked`` sources."""
    inputs = [rule for source in sorted(blocked) if (rule := block_rule(address, source))]
    if (drop := rule_for(address, mode)) is not None:
        inputs.append(drop)
    return inputs, [ttl_rule(address, mode.ttl)] if mode.ttl is not None else []


class IcmpFilter:
    """The nftables table realising the ping modes and blocked sources of a set of destinations: ``rules`` on the
    ``input`` hook (echo requests dropped), ``output_rules`` on the ``output`` hook (reply TTLs set). ``update``
    replaces them while the table is active (a scenario whose pings change over time)."""

    def __init__(
        self, modes: Sequence[tuple[str, PingMode]], output_rules: Sequence[str] = (), *, needed: bool = False
    ) -> None:
        self.table = f"{TABLE_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
        self.rules = [rule for address, mode in modes if (rule := rule_for(address, mode))]
        self.output_rules = list(output_rules)
        self.active = False
        self._needed = needed

    @property
    def needed(self) -> bool:
        return self._needed or bool(self.rules or self.output_rules)

    def ruleset(self) -> str:
        """The table as an ``nft -f`` script."""
        lines = [f"table {_FAMILY} {self.table} {{", "  chain input {"]
        lines.append("    type filter hook input priority 0; policy accept;")
        lines += [f"    {rule}" for rule in self.rules]
        lines += ["  }", "  chain output {", "    type filter hook output priority 0; policy accept;"]
        lines += [f"    {rule}" for rule in self.output_rules]
        lines += ["  }", "}", ""]
        return "\n".join(lines)

    def update(self, rules: Sequence[str], output_rules: Sequence[str]) -> bool:
        """Replace the rules (one nft transaction when active and they changed); False when nft refused them."""
        if list(rules) == self.rules and list(output_rules) == self.output_rules:
            return True
        self.rules, self.output_rules = list(rules), list(output_rules)
        if not self.active:
            return True
        script = f"table {_FAMILY} {self.table}\ndelete table {_FAMILY} {self.table}\n{self.ruleset()}"
        try:
            result = _nft(["-f", "-"], stdin=script)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("lab: ICMP rules not updated: %s", exc)
            return False
        if result.returncode:
            log.warning("lab: ICMP rules not updated: %s", result.stderr.strip())
        return not result.returncode

    def apply(self) -> bool:
        """Create the table; False (with a warning) when that is impossible here."""
        if not self.needed:
            return True
        reason = self._cannot_apply()
        if reason is None:
            try:
                remove_stale_tables()
                result = _nft(["-f", "-"], stdin=self.ruleset())
                reason = result.stderr.strip() if result.returncode else None
            except (OSError, subprocess.SubprocessError) as exc:
                reason = str(exc)
        if reason is not None:
            log.warning("lab: ping drop/loss not applied (%s); ICMP echo is answered normally", reason)
            return False
        self.active = True
        atexit.register(self.remove)
        return True

    @staticmethod
    def _cannot_apply() -> str | None:
        if shutil.which("nft") is None:
            return "the nft command is missing (Debian package nftables)"
        if os.geteuid() != 0:
            return "nftables needs root"
        return None

    def remove(self) -> None:
        """Delete the table if this filter created it (safe to call twice)."""
        if not self.active:
            return
        self.active = False
        atexit.unregister(self.remove)
        try:
            result = _nft(["delete", "table", _FAMILY, self.table])
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("lab: could not delete nftables table %s: %s", self.table, exc)
            return
        if result.returncode:
            log.warning("lab: could not delete nftables table %s: %s", self.table, result.stderr.strip())

    def counters(self) -> dict[str, int]:
        """Packets dropped so far, per rule address (for tests); empty when not active."""
        if not self.active:
            return {}
        result = _nft(["list", "table", _FAMILY, self.table])
        found = re.findall(r"daddr (\S+) .*?counter packets (\d+)", result.stdout)
        return {address: int(packets) for address, packets in found}
