"""Deny-list outputs beyond ``plain``/``csv``/``stix`` (:mod:`c2watch.analysis.blocklist`): each takes the advised
entries (:class:`~c2watch.analysis.blocklist.Entry`, the kept or the removable ones) and knows nothing of how they
were advised.

- :mod:`.values`: ``--values ip|domain|url|all``, the one choice of value kinds for every format and both modes;
- :mod:`.edl`: External Dynamic List text (one value a line) with its ETag, for firewalls that poll;
- :mod:`.nft`: an nftables set definition file (IP addresses);
- :mod:`.misp`: a MISP feed directory (``manifest.json``, one event per threat ID with attributes and sightings).
"""

from c2watch.analysis.blocklist_formats.edl import edl_text, etag_of, matches_etag
from c2watch.analysis.blocklist_formats.misp import feed_files, write_feed
from c2watch.analysis.blocklist_formats.nft import nft_set
from c2watch.analysis.blocklist_formats.values import VALUES, of_kinds, parse_values

__all__ = [
    "VALUES",
    "edl_text",
    "etag_of",
    "feed_files",
    "matches_etag",
    "nft_set",
    "of_kinds",
    "parse_values",
    "write_feed",
]
