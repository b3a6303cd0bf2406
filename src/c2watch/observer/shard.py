"""Split one watchlist across several agents: ``--shard i/n`` takes the destinations whose stable hash falls in
bucket i of n (1-based). Every destination lands in exactly one shard, the same one on every run and machine."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from c2watch.errors import InputError
from c2watch.models import Target

__all__ = ["Shard"]

_FORM = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = _FORM.match(text.strip())
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise InputError(f"--shard: expected i/n with 1 <= i <= n, e.g. 2/4; got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def owns(self, target: Target) -> bool:
        return self.owns_key(target.threat_id, target.key)

    def owns_key(self, threat_id: str, key: str) -> bool:
        digest = hashlib.sha256(f"{threat_id}\x00{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1
