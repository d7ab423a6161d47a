"""Storage plumbing: SQLite write transactions take their turn in the writer queue."""

import threading

from windowsvc.db import _writer_queue, write_transaction


def test_a_write_transaction_waits_for_the_writer_queue_on_sqlite(app):
    from windowsvc.extensions import db

    with app.app_context():
        queue = _writer_queue(db.engine)
    if queue is None:  # PostgreSQL: rows are locked, there is no writer queue
        assert app.config["DATABASE_URL"].startswith("postgresql")
        return
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
