"""Background work once across processes sharing a store: the lead of a job (a PostgreSQL advisory lock per schema),
the judge's gathering kept in the store, the upkeep on the leader only. Several stores on one schema stand for the
hub's replicas; a replica's death is its PostgreSQL session ended."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from c2watch.alerts import GatheredJudge, store_alert_loop
from c2watch.config import Settings
from c2watch.store import (
    CLAIMED,
    GATHERING,
    IDLE,
    Leadership,
    Store,
    Upkeep,
    current_revision,
    head_revision,
    open_store,
)
from tests.conftest import postgres_base_url

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
GATHER = 300.0


@pytest.fixture
def replicas(postgres_url: str) -> Iterator[tuple[Store, Store]]:
    """Two stores on one PostgreSQL schema, each with its own engine (as two hub processes have)."""
    first, second = open_store(postgres_url), open_store(postgres_url)
    yield first, second
    first.close()
    second.close()


def end_session(pid: int | None) -> None:
    """What PostgreSQL does when the process holding the session dies."""
    assert pid is not None
    admin = sa.create_engine(postgres_base_url())
    with admin.begin() as conn:
        assert conn.execute(sa.select(sa.func.pg_terminate_backend(pid))).scalar()
    admin.dispose()


def until(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass (PostgreSQL ends a session asynchronously)."""
    deadline, pause = time.monotonic() + seconds, threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.05)
    return True


def test_one_process_leads_a_job_and_another_takes_over_when_it_dies(replicas: tuple[Store, Store]) -> None:
    first, second = replicas
    one, other = Leadership(first.engine, "judge"), Leadership(second.engine, "judge")
    assert one.held() and one.held()  # kept while its session lives
    assert not other.held()
    assert Leadership(second.engine, "upkeep").held()  # one lock per job
    end_session(one.pid)
    assert until(other.held)
    assert not one.held()  # its broken session is noticed; the lead is the other's now
    other.release()
    assert one.held()
    one.release()


def test_on_sqlite_the_one_process_leads(tmp_path: object) -> None:
    store = open_store(f"sqlite+pysqlite:///{tmp_path}/c2watch.db")
    assert Leadership(store.engine, "judge").held() and Leadership(store.engine, "judge").held()
    store.close()


def test_a_gathering_is_claimed_refreshed_and_closed(store: Store) -> None:
    assert store.judging.gathering().state == IDLE
    store.judging.arrived(T0)
    store.judging.arrived(T0 + dt.timedelta(seconds=30))  # joins the open gathering
    gathering = store.judging.gathering()
    assert (gathering.state, gathering.since) == (GATHERING, T0)
    assert gathering.due_at(dt.timedelta(seconds=GATHER)) == T0 + dt.timedelta(seconds=GATHER)
    assert store.judging.claim(T0 + dt.timedelta(seconds=GATHER))
    store.judging.arrived(T0 + dt.timedelta(seconds=301))  # during the refresh: a new gathering
    store.judging.close(T0 + dt.timedelta(seconds=302))
    assert store.judging.gathering().state == GATHERING and store.judging.refreshes() == 1
    assert store.judging.claim(T0 + dt.timedelta(seconds=601))
    store.judging.close(T0 + dt.timedelta(seconds=602))
    assert store.judging.gathering().state == IDLE and store.judging.refreshes() == 2
    assert not store.judging.claim(T0 + dt.timedelta(seconds=900))


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def judge(store: Store, clock: Clock) -> GatheredJudge:
    alerts = store_alert_loop(store, Settings(), clock)
    return GatheredJudge(store, alerts, GATHER, Leadership(store.engine, "judge"), poll=15.0)


async def test_the_judge_refreshes_once_per_gathering_across_replicas(replicas: tuple[Store, Store]) -> None:
    clock = Clock(T0)
    judges = [judge(store, clock) for store in replicas]
    store = replicas[0]
    replicas[1].judging.arrived(T0)  # a push landed on the second replica
    clock.now = T0 + dt.timedelta(seconds=100)
    waits = [await j.step() for j in judges]
    assert store.judging.refreshes() == 0 and [j.leading for j in judges] == [True, False]
    assert waits == [15.0, 15.0]  # the leader looks again within its poll; the other asks for the lead again
    clock.now = T0 + dt.timedelta(seconds=GATHER - 5)
    assert await judges[0].step() == 5.0  # the refresh is due in 5 s
    clock.now = T0 + dt.timedelta(seconds=GATHER)
    for j in (*judges, *judges):
        await j.step()
    assert store.judging.refreshes() == 1 and store.judging.gathering().state == IDLE
    assert [j.alerts.refreshes for j in judges] == [1, 0]
    for j in judges:
        j.leadership.release()


async def test_a_refresh_left_claimed_by_a_dead_leader_runs_again_on_the_next(replicas: tuple[Store, Store]) -> None:
    clock = Clock(T0 + dt.timedelta(seconds=GATHER))
    leader, follower = (judge(store, clock) for store in replicas)
    assert leader.leadership.held()
    replicas[0].judging.arrived(T0)
    assert replicas[0].judging.claim(clock.now)  # the leader started the refresh, and died
    end_session(leader.leadership.pid)
    assert replicas[1].judging.gathering().state == CLAIMED

    async def takes_over() -> bool:
        await follower.step()
        return follower.leading

    deadline = time.monotonic() + 30
    while not await takes_over():
        assert time.monotonic() < deadline, "the follower never took the lead"
    assert follower.alerts.refreshes == 1 and replicas[1].judging.refreshes() == 1
    assert replicas[1].judging.gathering().state == IDLE
    follower.leadership.release()


def test_the_daily_upkeep_runs_on_the_leader_only(replicas: tuple[Store, Store]) -> None:
    settings = Settings()
    upkeeps = [Upkeep(store, settings) for store in replicas]
    assert [u.step() for u in upkeeps] == [True, False]
    upkeeps[0].leadership.release()
    assert upkeeps[1].step()
    upkeeps[1].leadership.release()


def test_processes_starting_at_once_migrate_a_fresh_schema_in_turn(postgres_url: str) -> None:
    """Four stores opened at the same moment on an empty schema (as replicas starting together): every one opens, at
    head, with the partitions ahead made once."""
    barrier, opened, errors = threading.Barrier(4), [], []

    def start() -> None:
        barrier.wait()
        try:
            store = open_store(postgres_url)
            store.maintenance.partitions_ahead(3)
            opened.append(store)
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=start, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert errors == [] and len(opened) == 4, "the stores did not all open (without turns they wait on each other)"
    assert current_revision(opened[0].engine) == head_revision()
    for store in opened:
        store.close()
