"""Storage plumbing: the one write transaction, and how concurrent writers meet on each backend."""

import threading
import uuid

import pytest
from sqlalchemy import select

from windowsvc.db import _writer_queue, is_postgres, write_transaction
from windowsvc.extensions import db
from windowsvc.models import Principal


def _principal(name):
    return Principal(name=name, role="window", token_hash=uuid.uuid4().hex)


def _names(app):
    """The principals' names as a fresh session reads them (only what was committed)."""
    with app.app_context():
        return set(db.session.scalars(select(Principal.name)))


def _on(app, backend):
    with app.app_context():
        if is_postgres() != (backend == "postgresql"):
            pytest.skip(f"a {backend} behaviour")


class TestWriteTransaction:
    def test_the_block_is_committed_when_it_ends(self, app):
        with app.app_context(), write_transaction() as session:
            session.add(_principal("已提交"))
        assert "已提交" in _names(app)

    def test_an_error_in_the_block_rolls_all_of_it_back(self, app):
        with app.app_context(), pytest.raises(RuntimeError), write_transaction() as session:
            session.add(_principal("已回滚"))
            session.flush()  # written to the database, then undone
            raise RuntimeError("a rule failed halfway")
        assert "已回滚" not in _names(app)


class TestConcurrentWriters:
    def test_on_sqlite_a_write_transaction_waits_for_the_writer_queue(self, app):
        _on(app, "sqlite")
        with app.app_context():
            queue = _writer_queue(db.engine)
        began, finished = threading.Event(), threading.Event()

        def writer():
            with app.app_context():
                with write_transaction():
                    began.set()
                finished.set()

        with queue.turn():  # another writer of this database holds the turn
            thread = threading.Thread(target=writer, daemon=True)
            thread.start()
            assert not began.wait(0.3)
        assert finished.wait(10)
        thread.join(10)

    def test_on_postgresql_writers_of_different_rows_do_not_wait_for_each_other(self, app):
        _on(app, "postgresql")
        with app.app_context():
            assert _writer_queue(db.engine) is None
        holding, release, second_done = threading.Event(), threading.Event(), threading.Event()

        def first():
            with app.app_context(), write_transaction() as session:
                session.add(_principal("第一"))
                session.flush()
                holding.set()
                release.wait(10)

        def second():
            with app.app_context(), write_transaction() as session:
                session.add(_principal("第二"))
            second_done.set()

        holder = threading.Thread(target=first, daemon=True)
        holder.start()
        try:
            assert holding.wait(10)
            threading.Thread(target=second, daemon=True).start()
            assert second_done.wait(5)  # committed while the first is still open
            assert "第二" in _names(app) and "第一" not in _names(app)
        finally:
            release.set()
            holder.join(10)
        assert {"第一", "第二"} <= _names(app)


def test_the_task_queue_index_keeps_its_descending_priority(app):
    """fetch-and-lock reads the queue in index order; an ascending priority sorts every
    pending task of a department on each fetch (a migration once lost the DESC)."""
    from sqlalchemy import text

    from windowsvc.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            definition = db.session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'ix_steps_queue'")
            )
        else:
            definition = db.session.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_steps_queue'")
            )
    assert "priority DESC" in definition
