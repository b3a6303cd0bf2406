"""Signed records: an observer's group signs and verifies; any change to the record or to an object it refers to,
a wrong or unknown key, a missing referred object or a malformed signature is refused; key files are 0600 from the
start and public keys round-trip."""

from __future__ import annotations

import copy
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from c2watch.errors import InputError
from c2watch.stix.keys import load_private_key, parse_public_key, public_key_text, write_private_key
from c2watch.stix.signing import key_id, sign, verify
from c2watch.stix.vocab import DETAILS_EXTENSION, PROBE_EXTENSION
from tests.helpers.stix_factory import group, producer

KEY = Ed25519PrivateKey.generate()
KEYS = {key_id(KEY.public_key()): KEY.public_key()}


def signed_group() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    objects = {o["id"]: o for o in group(producer("Org A"), 7)}
    [observed] = [o for o in objects.values() if o["type"] == "observed-data"]
    sign(observed, KEY, objects)
    return observed, objects


def test_a_signed_record_verifies_with_its_objects() -> None:
    observed, objects = signed_group()
    check = verify(observed, KEYS, objects)
    assert (check.outcome, check.key) == ("valid", key_id(KEY.public_key()))
    assert set(observed["extensions"][DETAILS_EXTENSION]["signed_refs"]) == set(observed["object_refs"])


def _flow(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects.values() if o["type"] == "network-traffic" and "dst_port" in o)


def _details(obs: dict[str, Any]) -> dict[str, Any]:
    return obs["extensions"][DETAILS_EXTENSION]


def _probe(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return _flow(objects)["extensions"][PROBE_EXTENSION]


def _signature(obs: dict[str, Any]) -> dict[str, Any]:
    return _details(obs)["signature"]


CHANGES: dict[str, tuple[Any, str]] = {
    "time": (lambda obs, objs: obs.update(first_observed="2026-01-05T03:00:01Z"), "invalid"),
    "outcome": (lambda obs, objs: _details(obs).update(outcome="silent"), "invalid"),
    "observer": (lambda obs, objs: _details(obs).update(observer_ref="identity--x"), "invalid"),
    "probe result": (
        lambda obs, objs: _flow(objs)["extensions"][PROBE_EXTENSION].update(http_status_code=404),
        "invalid",
    ),
    "probe object gone": (lambda obs, objs: objs.pop(_flow(objs)["id"]), "incomplete"),
    "no signature": (lambda obs, objs: _details(obs).pop("signature"), "unsigned"),
    "short value": (lambda obs, objs: _signature(obs).update(value="AAAA"), "malformed"),
    "other algorithm": (lambda obs, objs: _signature(obs).update(alg="RSA"), "malformed"),
    "unknown key": (lambda obs, objs: _signature(obs).update(key="0" * 32), "unknown-key"),
    "number JSON cannot carry": (lambda obs, objs: _details(obs).update(resolved=[2**60]), "malformed"),
}


@pytest.mark.parametrize("name", CHANGES)
def test_any_change_is_refused(name: str) -> None:
    change, outcome = CHANGES[name]
    observed, objects = signed_group()
    observed, objects = copy.deepcopy(observed), copy.deepcopy(objects)
    change(observed, objects)
    assert verify(observed, KEYS, objects).outcome == outcome


def test_another_observers_key_does_not_verify() -> None:
    observed, objects = signed_group()
    other = Ed25519PrivateKey.generate()
    forged = copy.deepcopy(observed)
    sign(forged, other, objects)  # re-signed by someone else
    assert verify(forged, KEYS, objects).outcome == "unknown-key"
    impostor = {key_id(KEY.public_key()): other.public_key()}  # a key registered under the wrong id
    assert verify(observed, impostor, objects).outcome == "invalid"


def test_signing_changes_only_the_signature_members() -> None:
    plain = {o["id"]: o for o in group(producer("Org A"), 7)}
    observed, _ = signed_group()
    [original] = [o for o in plain.values() if o["type"] == "observed-data"]
    details = dict(observed["extensions"][DETAILS_EXTENSION])
    assert set(details) - set(original["extensions"][DETAILS_EXTENSION]) == {"signature", "signed_refs"}


def test_key_files_are_private_from_the_start_and_round_trip(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "keys" / "observer.key"
    key = write_private_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_private_key(path)  # never overwritten
    loaded = load_private_key(path)
    assert key_id(loaded.public_key()) == key_id(key.public_key())
    text = public_key_text(key)
    assert key_id(parse_public_key(text)) == key_id(key.public_key())
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        load_private_key(path)
    assert "readable by others" in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "base64 of 32 bytes or PEM"),
        ("AAAA", "32 bytes, this one 3"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a PEM public key"),
    ],
)
def test_bad_public_keys_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_public_key(text)
