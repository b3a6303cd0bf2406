"""Tell a malware family from the other words feeds tag their rows with.

URLhaus tags a URL with anything its reporters type (``32-bit``, ``elf``, ``censys``, ``github``, ``USA``,
``198-51-100-212``, ``Mozi``) and sorts the tags alphabetically, so neither "the first tag" nor "the first tag that
is not a file type" names a family. :func:`family_of` recognises a family by one of two rules:

1. the name is in :data:`FAMILIES` (families and abused remote-access tools that abuse.ch and Malpedia name,
   compared without case and punctuation, so ``CobaltStrike``, ``cobalt_strike`` and ``Cobalt Strike`` are one), or
   an alias of one (:data:`ALIASES`: ``heodo`` is ``emotet``);
2. the name is one word of letters and digits ending in a family-kind suffix (``rat``, ``stealer``, ``loader``,
   ``logger``, ``bot``, ``miner``, ``locker``, ``ransomware``, ``grabber``, ``clipper``, ``crypter``, ``banker``)
   after at least three characters: ``DarkVisionRAT``, ``PhemedroneStealer``; not :data:`NOT_FAMILIES`.

A dotted name (``CoinMiner.XMRig``) is tried whole, then part by part from the last. The family's canonical name is
the lower-case entry of the list (or the lower-cased tag for rule 2).
"""

from __future__ import annotations

import re

__all__ = ["ALIASES", "FAMILIES", "NOT_FAMILIES", "family_of"]

FAMILIES: frozenset[str] = frozenset(
    {
        # IoT and Linux botnets
        *("mirai", "mozi", "gafgyt", "tsunami", "moobot", "hajime", "kaiji", "xorddos", "dofloo", "okiru"),
        *("satori", "sora", "condi", "rapperbot", "hailbot", "catddos", "v3g4", "fodcha", "zerobot", "enemybot"),
        *("sysrv", "kinsing", "muhstik", "lucifer", "darknexus", "torii", "echobot", "p2pinfect", "gorillabot"),
        *("rondodox", "aisuru", "mushtik", "bashlite", "kaiten", "ddostf", "billgates", "chalubo", "xmrig"),
        *("coinminer", "skidmap", "tsunamibot", "hiddenwasp", "ebury", "sshdkit", "perfctl", "redtail"),
        # remote-access trojans
        *("agenttesla", "asyncrat", "remcos", "njrat", "nanocore", "quasarrat", "dcrat", "xworm", "venomrat"),
        *("warzonerat", "netwire", "orcusrat", "darkcomet", "poisonivy", "plugx", "gh0strat", "bitrat"),
        *("darkvisionrat", "sectoprat", "arechclient2", "parallaxrat", "limerat", "adwind", "jrat", "strrat"),
        *("njrat", "revengerat", "blacknet", "xtremerat", "pupy", "sparkrat", "vjw0rm", "houdini", "wshrat"),
        *("dbatloader", "guloader", "formbook", "xloader", "lokibot", "snakekeylogger", "masslogger"),
        *("hawkeye", "purelogs", "purecrypter", "pureminer", "darktortilla", "darkcloud", "netsupport"),
        # stealers
        *("redlinestealer", "vidar", "raccoon", "stealc", "lummastealer", "metastealer", "rhadamanthys"),
        *("risepro", "mysticstealer", "aurorastealer", "phemedronestealer", "salatstealer", "strelastealer"),
        *("stormkitty", "azorult", "predatorthethief", "arkei", "taurusstealer", "marsstealer", "oski"),
        *("pony", "fareit", "kpot", "acridrain", "amatera", "atomicstealer", "banshee", "poseidon"),
        *("cryptbot", "ficker", "mintstealer", "whitesnake", "rustystealer", "blackguard", "eternity"),
        # loaders, banking trojans, botnets
        *("amadey", "smokeloader", "privateloader", "gcleaner", "systembc", "emotet", "qakbot", "icedid"),
        *("dridex", "trickbot", "bazarloader", "bumblebee", "pikabot", "darkgate", "latrodectus", "ursnif"),
        *("zloader", "valak", "hancitor", "socgholish", "emmenhtal", "hijackloader", "idatloader", "gootloader"),
        *("glupteba", "tofsee", "necurs", "andromeda", "phorpiex", "ramnit", "nymaim", "upatre", "blackmoon"),
        *("ladvix", "danabot", "gozi", "matanbuchus", "ssload", "lobshot", "bunnyloader", "modiloader"),
        *("netdooka", "nitol", "sality", "virut", "expiro", "neshta", "floxif", "berbew", "wannacry"),
        # post-exploitation and C2 frameworks
        *("cobaltstrike", "sliver", "bruteratel", "havoc", "metasploit", "meterpreter", "mythic", "covenant"),
        *("empire", "poshc2", "deimos", "merlin", "nighthawk", "manjusaka", "adaptixc2", "villain", "pupyrat"),
        *("mimikatz", "getshell", "shadowpad", "winnti", "cobaltstrikebeacon", "viper", "supershell"),
        # ransomware
        *("lockbit", "blackmatter", "darkside", "conti", "revil", "ryuk", "stop", "phobos", "babuk"),
        *("blackcat", "akira", "blackbasta", "clop", "hive", "royal", "medusa", "rhysida", "play"),
        # Android
        *("spynote", "coper", "hydra", "cerberus", "anubis", "flubot", "ermac", "hook", "octo", "xenomorph"),
        *("sova", "teabot", "vultur", "brata", "hiddad", "joker", "harly", "spymax", "craxsrat"),
        # abused remote-management tools (their own servers are the infrastructure)
        *("connectwise", "screenconnect", "anydesk", "atera", "splashtop", "rms", "ultravnc", "meshagent"),
    }
)
"""Known families (lower-case, letters and digits only)."""

ALIASES: dict[str, str] = {
    "heodo": "emotet",
    "geodo": "emotet",
    "qbot": "qakbot",
    "quakbot": "qakbot",
    "pinkslipbot": "qakbot",
    "bokbot": "icedid",
    "remcosrat": "remcos",
    "bladabindi": "njrat",
    "quasar": "quasarrat",
    "darkcrystalrat": "dcrat",
    "avemaria": "warzonerat",
    "redline": "redlinestealer",
    "lumma": "lummastealer",
    "lummac2": "lummastealer",
    "raccoonstealer": "raccoon",
    "404keylogger": "snakekeylogger",
    "cloudeye": "guloader",
    "gamarue": "andromeda",
    "netsupportmanager": "netsupport",
    "netsupportmanagerrat": "netsupport",
    "isfb": "ursnif",
    "bashlite": "gafgyt",
    "kaiten": "tsunami",
    "alphv": "blackcat",
    "djvu": "stop",
    "beacon": "cobaltstrike",
    "cobaltstrikebeacon": "cobaltstrike",
    "uacmodulesmokeloader": "smokeloader",
}
"""Other names of listed families."""

NOT_FAMILIES: frozenset[str] = frozenset(
    {"multirat", "base64loader", "jpgbase64loader", "dropperbot", "ddosbot", "spambot", "coinminerbot"}
)
"""Words the suffix rule would take for a family but are kinds of malware."""

_SUFFIX = re.compile(
    r"^[a-z0-9]{3,}(rat|stealer|loader|logger|bot|miner|locker|ransomware|grabber|clipper|crypter|banker)$"
)
_ONE_WORD = re.compile(r"^[A-Za-z0-9]+$")
_PUNCTUATION = re.compile(r"[\s_.\-]+")


def family_of(tag: str) -> str | None:
    """The canonical family name ``tag`` stands for, or None when it names no family."""
    text = tag.strip()
    if not text:
        return None
    candidates = [text, *reversed(text.split("."))] if "." in text else [text]
    for candidate in candidates:
        found = _known(candidate) or _by_suffix(candidate)
        if found:
            return found
    return None


def _known(name: str) -> str | None:
    key = _PUNCTUATION.sub("", name.lower())
    if key in FAMILIES:
        return ALIASES.get(key, key)
    return ALIASES.get(key)


def _by_suffix(name: str) -> str | None:
    key = name.lower()
    if not _ONE_WORD.match(name) or key in NOT_FAMILIES or not _SUFFIX.match(key):
        return None
    return key
