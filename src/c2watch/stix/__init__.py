"""STIX 2.1: our vocabulary, one observation as objects, a cycle as a streamed bundle file."""

from c2watch.stix.bundle import BundleWriter, bundle_path
from c2watch.stix.observation import Producer, observation_objects
from c2watch.stix.vocab import identity_ids

__all__ = ["BundleWriter", "Producer", "bundle_path", "identity_ids", "observation_objects"]
