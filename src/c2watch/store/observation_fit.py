"""Our observation fitted to the ``observations`` columns before it is written (:mod:`c2watch.store.fit`), so the
store row and the STIX objects carry the same values."""

from __future__ import annotations

from c2watch.models.observation import Observation
from c2watch.models.rows import COLUMNS_BY_KIND, result_fields
from c2watch.store.fit import JSON_TEXT_LIMIT, fit_json, fit_text, fit_value
from c2watch.store.tables import observations

__all__ = ["fit_observation"]


def fit_observation(obs: Observation) -> Observation:
    """Fit every result field in place: a mapped field to its column, any other as JSON (text clipped to
    :data:`~c2watch.store.fit.JSON_TEXT_LIMIT`); each changed value is marked in ``obs.fitted`` under its column
    or ``kind.field``. Idempotent."""
    for kind, result in obs.results.items():
        columns = dict(COLUMNS_BY_KIND.get(kind, ()))
        fields = result_fields(result)
        for name, value in fields.items():
            column = columns.get(name)
            if column is not None:
                fields[name], mark = fit_value(observations.c[column], value)
            elif isinstance(value, str):
                fields[name], mark = fit_text(value, JSON_TEXT_LIMIT)
            else:
                fields[name], mark = fit_json(value), None
            if mark is not None:
                obs.fitted[column or f"{kind}.{name}"] = mark.as_dict()
    return obs
