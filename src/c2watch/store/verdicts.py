"""The summary fold: ``answer_summaries`` (one row per destination and observer: observations, first and last, the
last answer of each probe, the cycles since it) kept up to date *incrementally*. Each call folds in only the
observations added since the previous call (by row id, so records pulled late with old times are folded too); the
steady state (one new observation per destination and observer, later than all before) is folded in SQL, every
other destination through a plan merged in Python. What counts as an answer is in :mod:`c2watch.store.answers`; the
recent window's queries are in :mod:`c2watch.store.windows`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from c2watch.models.kinds import ANSWER_PROBES
from c2watch.store.answers import WATERMARK, Span, Summary, answered, chunks, counted
from c2watch.store.bulkupdate import update_rows
from c2watch.store.tables import analysis_state, answer_summaries, observations

__all__ = ["FoldPlan", "apply_fold", "plan_fold", "summaries"]

o = observations
s = answer_summaries


def _destination_answers() -> sa.Subquery:
    """Per destination, the last answer of each probe to any observer and the last observation folded (as the
    summaries hold them)."""
    lasts = [sa.func.max(s.c[f"{p}_at"]).label(f"{p}_at") for p in ANSWER_PROBES]
    latest = sa.func.max(s.c.last_at).label("last_at")
    return sa.select(s.c.target_pk, *lasts, latest).group_by(s.c.target_pk).subquery("d")


def _count_after(at: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((sa.or_(at.is_(None), o.c.observed_at > at), 1), else_=0))


def _batch_query(mark: int, top: int, general: bool = False) -> sa.Select[Any]:
    """Per (destination, observer) of observations ``(mark, top]``: counts, times, the newest answer of each probe,
    and how many came after the answers the summaries hold so far (the observer's own and the destination's). With
    ``general``, only the destinations off the steady path (:func:`_steady`)."""
    d = _destination_answers()
    joined = o.outerjoin(s, sa.and_(s.c.target_pk == o.c.target_pk, s.c.observer_pk == o.c.observer_pk)).outerjoin(
        d, d.c.target_pk == o.c.target_pk
    )
    where = [o.c.id > mark, o.c.id <= top, counted()]
    if general:
        steady = _steady(_pairs(mark, top)).subquery("steady")
        joined = joined.outerjoin(steady, steady.c.target_pk == o.c.target_pk)
        where.append(steady.c.target_pk.is_(None))
    lasts = [sa.func.max(sa.case((answered(p), o.c.observed_at))).label(f"{p}_at") for p in ANSWER_PROBES]
    own = [_count_after(s.c[f"{p}_at"]).label(f"silent_{p}") for p in ANSWER_PROBES]
    dest = [_count_after(d.c[f"{p}_at"]).label(f"after_{p}") for p in ANSWER_PROBES]
    answer_values = [  # the answer's own status and TTL when the batch holds one row of the pair
        sa.func.max(sa.case((answered("http"), o.c.http_status))).label("answer_status"),
        sa.func.max(sa.case((answered("icmp"), o.c.ping_ttl))).label("answer_ttl"),
    ]
    folded = [sa.func.max(d.c[f"{p}_at"]).label(f"dest_{p}_at") for p in ANSWER_PROBES]  # for the steady path
    folded.append(sa.func.max(d.c.last_at).label("dest_last_at"))
    return (
        sa.select(
            o.c.target_pk,
            o.c.observer_pk,
            sa.func.count().label("n"),
            sa.func.min(o.c.observed_at).label("first_at"),
            sa.func.max(o.c.observed_at).label("last_at"),
            *lasts,
            *own,
            *dest,
            *answer_values,
            *folded,
        )
        .select_from(joined)
        .where(*where)
        .group_by(o.c.target_pk, o.c.observer_pk)
    )


def _existing(conn: sa.Connection, mark: int, top: int) -> dict[tuple[int, int], Summary]:
    """Every summary of the destinations observed in ``(mark, top]`` off the steady path (one query, not one per
    chunk of ids)."""
    steady = _steady(_pairs(mark, top)).subquery("steady")
    observed = (
        sa.select(o.c.target_pk)
        .outerjoin(steady, steady.c.target_pk == o.c.target_pk)
        .where(o.c.id > mark, o.c.id <= top, counted(), steady.c.target_pk.is_(None))
    )
    query = sa.select(s).where(s.c.target_pk.in_(observed))
    return {(row.target_pk, row.observer_pk): Summary(*row) for row in conn.execute(query)}


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


Answers = dict[int, dict[str, dt.datetime | None]]


def _destination_lasts(rows: Iterable[Any]) -> Answers:
    """Per destination, the latest answer of each probe among ``rows`` (summaries or batch rows)."""
    lasts: Answers = {}
    for row in rows:
        current = lasts.setdefault(row.target_pk, dict.fromkeys(ANSWER_PROBES))
        for probe in ANSWER_PROBES:
            current[probe] = _later(current[probe], getattr(row, f"{probe}_at"))
    return lasts


class FoldPlan(NamedTuple):
    """What folding the observations ``(mark, upper]`` writes (read without holding any write lock)."""

    mark: int
    upper: int
    steady: bool
    observations: int
    rows: list[dict[str, Any]]
    existing: dict[tuple[int, int], Summary]
    recount_own: dict[str, list[tuple[int, int]]]
    recount_after: dict[str, list[tuple[int, int]]]
    set_after: dict[str, list[dict[str, int]]]


def _alone(row: Any, old: Summary | None) -> bool:
    """Whether the batch holds one row of the pair, later than every row folded before: then what the recounts
    would count is that row alone, known from the batch (the steady state: one new observation per cycle)."""
    return row is not None and int(row.n) == 1 and (old is None or old.last_at < row.first_at)


def _own_known(row: Any, old: Summary | None, probe: str, merged: dict[str, Any]) -> bool:
    """Set the observer's silent count (and the answer's status or TTL) after a new answer of ``probe`` when the
    batch tells them; False when they must be recounted."""
    if not _alone(row, old):
        return False
    merged[f"silent_{probe}"] = 0
    if probe == "http":
        merged["http_status"] = row.answer_status
    elif probe == "icmp":
        merged["icmp_ttl"] = row.answer_ttl
    return True


def _after_known(row: Any, old: Summary | None, last: dt.datetime | None) -> int | None:
    """An observer's observations since its destination's new last answer ``last`` when the batch tells them
    (every row folded before is not later than ``last``), else None (recount)."""
    if last is None or (old is not None and old.last_at > last):
        return None
    if row is None:
        return 0
    if not _alone(row, old):
        return None
    return 1 if row.first_at > last else 0


def _merge(row: Any, old: Summary | None, moved: dict[str, bool], plan: FoldPlan) -> dict[str, Any]:
    """The summary after folding one batch row into ``old``; counts that must be redone are queued in ``plan``."""
    pair = (row.target_pk, row.observer_pk)
    merged: dict[str, Any] = {
        "target_pk": row.target_pk,
        "observer_pk": row.observer_pk,
        "observations": (old.observations if old else 0) + int(row.n),
        "first_at": min(old.first_at, row.first_at) if old else row.first_at,
        "last_at": max(old.last_at, row.last_at) if old else row.last_at,
        "http_status": old.http_status if old else None,
        "icmp_ttl": old.icmp_ttl if old else None,
    }
    for probe in ANSWER_PROBES:
        before, batch = (old.answer_at(probe) if old else None), getattr(row, f"{probe}_at")
        merged[f"{probe}_at"] = _later(before, batch)
        if batch is not None and (before is None or batch > before):
            if not _own_known(row, old, probe, merged):
                plan.recount_own[probe].append(pair)
                merged[f"silent_{probe}"] = 0
        else:
            merged[f"silent_{probe}"] = (old.silent(probe) if old else 0) + int(getattr(row, f"silent_{probe}"))
        merged[f"after_{probe}"] = (
            0 if moved[probe] else (old.after(probe) if old else 0) + int(getattr(row, f"after_{probe}"))
        )
    return merged


def plan_fold(conn: sa.Connection, mark: int, upper: int) -> FoldPlan:
    """Aggregate the observations ``(mark, upper]`` of the destinations off the steady path and merge them with the
    summaries as they are now (:func:`apply_fold` folds the others in SQL)."""
    paths = _paths(conn, mark, upper)
    batch = conn.execute(_batch_query(mark, upper, general=True)).all() if False in paths else []
    existing = _existing(conn, mark, upper) if False in paths else {}
    plan = FoldPlan(
        mark,
        upper,
        True in paths,
        sum(int(r.n) for r in batch),
        [],
        existing,
        {p: [] for p in ANSWER_PROBES},
        {p: [] for p in ANSWER_PROBES},
        {p: [] for p in ANSWER_PROBES},
    )
    before, new = _destination_lasts(existing.values()), _destination_lasts(batch)
    moved: dict[int, dict[str, bool]] = {}
    for target_pk, lasts in new.items():
        old = before.get(target_pk, dict.fromkeys(ANSWER_PROBES))
        moved[target_pk] = {p: lasts[p] is not None and _later(old[p], lasts[p]) != old[p] for p in ANSWER_PROBES}
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    rows = {(row.target_pk, row.observer_pk): row for row in batch}
    for pair, row in rows.items():
        merged[pair] = _merge(row, existing.get(pair), moved[pair[0]], plan)
        plan.rows.append(merged[pair])
    for pair in sorted({*existing, *rows}):  # every observer of a destination whose last answer moved counts again
        for probe in ANSWER_PROBES:
            if moved.get(pair[0], {}).get(probe):
                _queue_after(
                    plan, probe, pair, _after_known(rows.get(pair), existing.get(pair), new[pair[0]][probe]), merged
                )
    return plan


def _queue_after(
    plan: FoldPlan, probe: str, pair: tuple[int, int], known: int | None, merged: dict[tuple[int, int], dict[str, Any]]
) -> None:
    """The pair's count since its destination's new last answer: set when known, else queued for a recount."""
    if known is None:
        plan.recount_after[probe].append(pair)
    elif pair in merged:
        merged[pair][f"after_{probe}"] = known
    else:
        plan.set_after[probe].append({"t": pair[0], "ob": pair[1], f"after_{probe}": known})


def _write(conn: sa.Connection, rows: list[dict[str, Any]], existing: dict[tuple[int, int], Summary]) -> None:
    """Insert the new summaries, update the others (in bulk)."""
    new: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    for row in rows:
        (old if (row["target_pk"], row["observer_pk"]) in existing else new).append(row)
    if new:
        conn.execute(s.insert(), new)
    update_rows(conn, s, ("target_pk", "observer_pk"), old)


def _update_pair() -> sa.Update:
    return s.update().where(s.c.target_pk == sa.bindparam("t"), s.c.observer_pk == sa.bindparam("ob"))


def _same_pair() -> sa.ColumnElement[bool]:
    return sa.and_(o.c.observer_pk == s.c.observer_pk, o.c.target_pk == s.c.target_pk)


def _recount_own(conn: sa.Connection, probe: str, pairs: Sequence[tuple[int, int]], top: int) -> None:
    """Cycles since the observer's (new) last answer of ``probe``, and the status or TTL of that answer.

    Correlated subqueries seek each pair in the (observer, target, time) index whatever the planner's statistics say;
    ``id + 0`` keeps SQLite from scanning the primary key instead."""
    at = s.c[f"{probe}_at"]
    silent = (
        sa.select(sa.func.count())
        .where(_same_pair(), o.c.observed_at > at, o.c.id + 0 <= top, counted())
        .scalar_subquery()
    )
    column = {"http": (o.c.http_status, "http_status"), "icmp": (o.c.ping_ttl, "icmp_ttl")}.get(probe)
    columns: list[Any] = [silent]
    if column is not None:
        columns.append(sa.select(column[0]).where(_same_pair(), o.c.observed_at == at).scalar_subquery())
    updates = []
    for chunk in chunks(pairs):
        query = sa.select(s.c.target_pk, s.c.observer_pk, *columns).where(
            sa.tuple_(s.c.target_pk, s.c.observer_pk).in_(chunk)
        )
        for row in conn.execute(query):
            update = {"t": row[0], "ob": row[1], f"silent_{probe}": int(row[2])}
            if column is not None:
                update[column[1]] = row[3]
            updates.append(update)
    if updates:
        conn.execute(_update_pair(), updates)


def _recount_after(conn: sa.Connection, probe: str, pairs: Sequence[tuple[int, int]], top: int) -> None:
    """Each observer's observations since its destination's (new) last answer of ``probe`` to any observer."""
    updates = []
    for chunk in chunks(pairs):
        targets = sorted({target for target, _ in chunk})
        lasts = (
            sa.select(s.c.target_pk, sa.func.max(s.c[f"{probe}_at"]).label("at"))
            .where(s.c.target_pk.in_(targets))
            .group_by(s.c.target_pk)
            .subquery("d")
        )
        after = (
            sa.select(sa.func.count())
            .where(_same_pair(), o.c.observed_at > lasts.c.at, o.c.id + 0 <= top, counted())
            .scalar_subquery()
        )
        query = (
            sa.select(s.c.target_pk, s.c.observer_pk, after)
            .select_from(s.join(lasts, lasts.c.target_pk == s.c.target_pk))
            .where(sa.tuple_(s.c.target_pk, s.c.observer_pk).in_(chunk))
        )
        updates += [{"t": row[0], "ob": row[1], f"after_{probe}": int(row[2])} for row in conn.execute(query)]
    if updates:
        conn.execute(_update_pair(), updates)


# --- the steady state, folded in SQL ---
#
# A destination is *steady* in a batch when each of its observers brings one observation, later than every
# observation folded into its summaries (of any observer): then each summary follows from its old value and the
# batch row alone, as :func:`_merge` and :func:`_after_known` would set it, with no recount. Its summaries are
# written by three statements (UPDATE … FROM, INSERT … SELECT) from the batch aggregated once into a temporary
# table, with no Python object per row. Every other destination goes through :func:`plan_fold`.

_PAIRS, _STEADY = "fold_pairs", "fold_steady"


def _pairs(mark: int, top: int) -> sa.Subquery:
    """Per (destination, observer) of observations ``(mark, top]``: how many, the first, and the destination's
    last observation folded so far."""
    d = _destination_answers()
    return (
        sa.select(
            o.c.target_pk,
            o.c.observer_pk,
            sa.func.count().label("n"),
            sa.func.min(o.c.observed_at).label("first_at"),
            sa.func.max(d.c.last_at).label("dest_last_at"),
        )
        .select_from(o.outerjoin(d, d.c.target_pk == o.c.target_pk))
        .where(o.c.id > mark, o.c.id <= top, counted())
        .group_by(o.c.target_pk, o.c.observer_pk)
        .subquery("pairs")
    )


def _holds(pairs: sa.FromClause) -> sa.ColumnElement[bool]:
    """Whether a destination is steady, over its group of ``pairs`` (the batch's pairs: columns ``target_pk``,
    ``n``, ``first_at``, ``dest_last_at``)."""
    latest = sa.func.max(pairs.c.dest_last_at)
    return sa.and_(sa.func.max(pairs.c.n) == 1, sa.or_(latest.is_(None), latest < sa.func.min(pairs.c.first_at)))


def _steady(pairs: sa.FromClause) -> sa.Select[Any]:
    """The steady destinations among ``pairs``."""
    return sa.select(pairs.c.target_pk).group_by(pairs.c.target_pk).having(_holds(pairs))


def _paths(conn: sa.Connection, mark: int, top: int) -> set[bool]:
    """Which paths the destinations of ``(mark, top]`` take: True the steady one, False the general one."""
    pairs = _pairs(mark, top)
    flags = sa.select(sa.case((_holds(pairs), 1), else_=0).label("steady")).group_by(pairs.c.target_pk).subquery()
    return {bool(flag) for flag in conn.execute(sa.select(flags.c.steady).distinct()).scalars()}


def _create_as(conn: sa.Connection, name: str, query: sa.Select[Any], key: str) -> None:
    """A temporary table ``name`` holding ``query``'s rows (the numbers in it are ours: bound as literals), indexed
    on ``key`` (and analysed: PostgreSQL's autovacuum never sees temporary tables)."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    sql = query.compile(conn, compile_kwargs={"literal_binds": True})
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS {sql}")
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX {name}_key ON {name} ({key})")
    conn.exec_driver_sql(f"ANALYZE {name}")


def _temp(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


_PAIR_COLUMNS = (
    "target_pk",
    "observer_pk",
    "n",
    "first_at",
    "last_at",
    *(f"{p}_at" for p in ANSWER_PROBES),
    *(f"silent_{p}" for p in ANSWER_PROBES),
    *(f"after_{p}" for p in ANSWER_PROBES),
    "answer_status",
    "answer_ttl",
    *(f"dest_{p}_at" for p in ANSWER_PROBES),
    "dest_last_at",
)


def _steady_lasts(b: sa.TableClause) -> sa.Select[Any]:
    """Per steady destination, its new last answer of each probe and whether it moved (1) or not (0)."""
    steady = _steady(b).subquery("steady")
    columns: list[Any] = [b.c.target_pk]
    for probe in ANSWER_PROBES:
        new, old = sa.func.max(b.c[f"{probe}_at"]), sa.func.max(b.c[f"dest_{probe}_at"])
        moved = sa.and_(new.is_not(None), sa.or_(old.is_(None), new > old))
        columns += [new.label(f"{probe}_at"), sa.case((moved, 1), else_=0).label(f"moved_{probe}")]
    return sa.select(*columns).select_from(b.join(steady, steady.c.target_pk == b.c.target_pk)).group_by(b.c.target_pk)


def _steady_values(b: sa.TableClause, f: sa.TableClause, old: Any | None) -> dict[str, Any]:
    """A steady pair's summary from its batch row ``b``, its destination's lasts ``f`` and its ``old`` summary
    (None: a new pair)."""

    def was(name: str, default: Any) -> Any:
        return default if old is None else old.c[name]

    values: dict[str, Any] = {
        "observations": was("observations", 0) + 1,
        "first_at": b.c.first_at if old is None else old.c.first_at,
        "last_at": b.c.last_at,
        "http_status": sa.case((b.c.http_at.is_not(None), b.c.answer_status), else_=was("http_status", None)),
        "icmp_ttl": sa.case((b.c.icmp_at.is_not(None), b.c.answer_ttl), else_=was("icmp_ttl", None)),
    }
    for probe in ANSWER_PROBES:
        at = b.c[f"{probe}_at"]
        values[f"{probe}_at"] = at if old is None else sa.func.coalesce(at, old.c[f"{probe}_at"])
        values[f"silent_{probe}"] = sa.case(
            (at.is_not(None), 0), else_=was(f"silent_{probe}", 0) + b.c[f"silent_{probe}"]
        )
        after_last = sa.case((b.c.first_at > f.c[f"{probe}_at"], 1), else_=0)
        values[f"after_{probe}"] = sa.case(
            (f.c[f"moved_{probe}"] == 1, after_last), else_=was(f"after_{probe}", 0) + b.c[f"after_{probe}"]
        )
    return values


def _fold_steady(conn: sa.Connection, mark: int, top: int) -> int:
    """Fold the steady destinations of observations ``(mark, top]`` in SQL; returns how many observations (one
    per pair). Run it in the transaction that moved the watermark, before the plan's writes."""
    _create_as(conn, _PAIRS, _batch_query(mark, top), "target_pk, observer_pk")
    b = _temp(_PAIRS, *_PAIR_COLUMNS)
    lasts = [c for p in ANSWER_PROBES for c in (f"{p}_at", f"moved_{p}")]
    _create_as(conn, _STEADY, _steady_lasts(b), "target_pk")
    f = _temp(_STEADY, "target_pk", *lasts)
    same_pair = sa.and_(s.c.target_pk == b.c.target_pk, s.c.observer_pk == b.c.observer_pk)
    folded = conn.execute(
        sa.select(sa.func.count()).select_from(b.join(f, f.c.target_pk == b.c.target_pk))
    ).scalar_one()
    conn.execute(s.update().where(same_pair, f.c.target_pk == b.c.target_pk).values(_steady_values(b, f, s)))
    new = _steady_values(b, f, None)
    insert = (
        sa.select(b.c.target_pk, b.c.observer_pk, *new.values())
        .select_from(b.join(f, f.c.target_pk == b.c.target_pk))
        .where(~sa.exists().where(same_pair))
    )
    conn.execute(s.insert().from_select(["target_pk", "observer_pk", *new], insert))
    moved = sa.or_(*(f.c[f"moved_{p}"] == 1 for p in ANSWER_PROBES))
    resets = {f"after_{p}": sa.case((f.c[f"moved_{p}"] == 1, 0), else_=s.c[f"after_{p}"]) for p in ANSWER_PROBES}
    conn.execute(s.update().where(s.c.target_pk == f.c.target_pk, moved, ~sa.exists().where(same_pair)).values(resets))
    for name in (_PAIRS, _STEADY):
        conn.exec_driver_sql(f"DROP TABLE {name}")
    return int(folded)


def apply_fold(conn: sa.Connection, plan: FoldPlan, now: dt.datetime) -> int | None:
    """Write a plan and fold the steady destinations of its observations; the observations folded, or None when
    the watermark is no longer where the plan started (another process folded first)."""
    moved = conn.execute(
        analysis_state.update()
        .where(analysis_state.c.name == WATERMARK, analysis_state.c.value == plan.mark)
        .values(value=plan.upper, updated_at=now)
    )
    if not moved.rowcount:
        return None
    steady = _fold_steady(conn, plan.mark, plan.upper) if plan.steady else 0
    _write(conn, plan.rows, plan.existing)
    for probe in ANSWER_PROBES:
        if plan.set_after[probe]:
            conn.execute(_update_pair(), plan.set_after[probe])
        if plan.recount_own[probe]:
            _recount_own(conn, probe, plan.recount_own[probe], plan.upper)
        if plan.recount_after[probe]:
            _recount_after(conn, probe, plan.recount_after[probe], plan.upper)
    return plan.observations + steady


def summaries(conn: sa.Connection, target_pks: Sequence[int] | None = None, span: Span | None = None) -> list[Summary]:
    """Every summary (or those of ``target_pks``, or of the destinations in ``span``), by destination and
    observer."""
    query = sa.select(s).order_by(s.c.target_pk, s.c.observer_pk)
    if span is not None:
        query = query.where(s.c.target_pk.between(*span))
    if target_pks is None:
        return [Summary(*row) for row in conn.execute(query)]
    found: list[Summary] = []
    for chunk in chunks(list(target_pks)):
        found += [Summary(*row) for row in conn.execute(query.where(s.c.target_pk.in_(chunk)))]
    return found
