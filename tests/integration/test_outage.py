"""A connection the server drops in the middle of a request (platform/outage.py), on PostgreSQL:
a read runs once more on a fresh connection, a write is answered 503 and never run twice, and a
connection dropped after the answer was made does not turn that answer into a 500."""

import pytest
from flask import jsonify
from sqlalchemy import create_engine, text

from windowsvc.db import write_transaction
from windowsvc.extensions import db
from windowsvc.platform.policy import PUBLIC, allow
from windowsvc.platform.wakeup import listen_connect_args

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(postgres_database):
    """The app on the session's PostgreSQL database, with views that lose their connection."""
    from windowsvc import create_app

    app = create_app({"DATABASE_URL": postgres_database, "SECRET_KEY": "test", "TESTING": True})
    app.calls = []

    @allow(PUBLIC)
    def dropped_once():
        """Its first run has the server drop its connection mid-read."""
        app.calls.append("run")
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        if len(app.calls) == 1:
            _terminate(postgres_database, pid)
        db.session.execute(text("SELECT 1")).scalar()
        return jsonify(runs=len(app.calls))

    @allow(PUBLIC)
    def dropped_after_answering():
        """Reads (its transaction stays open), then loses the connection before it ends."""
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        _terminate(postgres_database, pid)
        return jsonify(read=True)

    @allow(PUBLIC)
    def wrote_then_dropped():
        """A read that records something (like a staff read's access record), then loses its
        connection."""
        app.calls.append("run")
        with write_transaction():
            db.session.execute(text("SELECT 1"))
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        _terminate(postgres_database, pid)
        db.session.execute(text("SELECT 1")).scalar()
        return jsonify(runs=len(app.calls))

    app.add_url_rule("/test/dropped-once", view_func=dropped_once, methods=["GET", "POST"])
    app.add_url_rule("/test/wrote-then-dropped", view_func=wrote_then_dropped)
    app.add_url_rule("/test/dropped-after", view_func=dropped_after_answering)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _terminate(url, pid):
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()


def test_a_read_whose_connection_was_dropped_runs_once_more_on_a_fresh_one(app):
    response = app.test_client().get("/test/dropped-once")
    assert response.status_code == 200, response.text
    assert response.json == {"runs": 2}


def test_a_write_whose_connection_was_dropped_is_answered_503_and_not_run_again(app):
    response = app.test_client().post("/test/dropped-once")
    assert response.status_code == 503, response.text
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json["type"] == "/problems/database-unavailable"
    assert app.calls == ["run"]


def test_a_read_that_began_writing_is_answered_503_and_not_run_again(app):
    response = app.test_client().get("/test/wrote-then-dropped")
    assert response.status_code == 503, response.text
    assert response.json["type"] == "/problems/database-unavailable"
    assert app.calls == ["run"]


def test_a_connection_dropped_after_the_answer_was_made_leaves_the_answer_alone(app):
    client = app.test_client()
    response = client.get("/test/dropped-after")
    assert response.status_code == 200, response.text
    assert response.json == {"read": True}
    assert client.get("/readyz").status_code == 200  # the next request has a working connection


def test_the_wakeup_listener_connects_to_every_host_of_a_multi_host_url():
    engine = create_engine(
        "postgresql+psycopg://windowsvc@/windowsvc?host=db1:5432&host=db2:5433"
        "&target_session_attrs=read-write"
    )
    args, kwargs = listen_connect_args(engine)
    assert args == []
    assert kwargs["host"] == "db1,db2" and kwargs["port"] == "5432,5433"
    assert kwargs["target_session_attrs"] == "read-write"
    assert kwargs["keepalives_idle"] == "5"
