"""Per-destination ICMP echo behaviour through an nftables table of the lab's own.

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

__all__ = ["TABLE_PREFIX", "IcmpFilter", "list_tables", "remove_stale_tables"]

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
    """The nft rule realising ``mode`` for ``address``; None when nothing is to be dropped."""
    if mode.loss == 0:
        return None
    ip = ipaddress.ip_address(address)
    match = f"ip daddr {ip} icmp" if ip.version == 4 else f"ip6 daddr {ip} icmpv6"
    rule = f"{match} type echo-request"
    if mode.loss < 100:
        divisor = math.gcd(mode.loss, 100)
        rule += f" numgen inc mod {100 // divisor} < {mode.loss // divisor}"
    return f"{rule} counter drop"


class IcmpFilter:
    """The nftables table realising the ``ping`` modes of a set of destinations."""

    def __init__(self, modes: Sequence[tuple[str, PingMode]]) -> None:
        self.table = f"{TABLE_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
        self.rules = [rule for address, mode in modes if (rule := rule_for(address, mode))]
        self.active = False

    @property
    def needed(self) -> bool:
        return bool(self.rules)

    def ruleset(self) -> str:
        """The table as an ``nft -f`` script."""
        lines = [f"table {_FAMILY} {self.table} {{", "  chain input {"]
        lines.append("    type filter hook input priority 0; policy accept;")
        lines += [f"    {rule}" for rule in self.rules]
        lines += ["  }", "}", ""]
        return "\n".join(lines)

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
