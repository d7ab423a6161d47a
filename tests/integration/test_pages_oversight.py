"""The oversight pages through the Flask test client: who may open them, CSRF, bad input, and the
small service additions they rely on (the access record's period, provisional cases)."""

from datetime import date, datetime, timedelta

import pytest

from tests.factories import bearer, csrf_of, signed_in_client
from windowsvc import clock

PASSWORD = "correct-horse-42"


@pytest.fixture
def staff_accounts(app):
    from windowsvc.services.admin import staff

    with app.app_context():
        staff.create("watch", PASSWORD, "oversight", "电子监察-赵敏")
        staff.create("clerk", PASSWORD, "window", "综合窗口01-王芳")


@pytest.fixture
def signed_in(app, staff_accounts):
    """A test client signed in as the given username (through the form, with its CSRF token)."""

    def _signed_in(username="watch"):
        return signed_in_client(app, username, PASSWORD)

    return _signed_in


PAGES = ["/oversight/", "/oversight/indicators", "/oversight/appeals", "/oversight/integrity"]


@pytest.mark.parametrize("path", [*PAGES, "/oversight/calendar"])
def test_every_page_opens_for_oversight_and_is_refused_to_a_clerk(signed_in, path):
    officer = signed_in("watch")
    page = officer.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "<h1>" in page.get_data(as_text=True)
    refused = signed_in("clerk").get(path)
    assert refused.status_code == 403
    assert "无权访问" in refused.get_data(as_text=True)


def test_an_anonymous_visitor_is_sent_to_sign_in(app):
    response = app.test_client().get("/oversight/")
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-12-10&to=2026-12-01", "from"),
        ("group_by=colour", "group_by"),
    ],
)
def test_a_bad_period_is_a_friendly_422_on_the_form(signed_in, query, field):
    response = signed_in().get(f"/oversight/indicators?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-' + field + '-error"' in html
    assert "统计条件有误" in html
    assert 'class="ov-indicators"' not in html


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01"])
def test_the_access_record_refuses_dates_outside_the_calendar(signed_in, query):
    response = signed_in().get(f"/oversight/integrity?{query}")
    assert response.status_code == 422
    assert "日期须在 2000 年至 2099 年之间" in response.get_data(as_text=True)


def test_the_csv_download_is_the_stats_csv_of_the_period(app, signed_in, tokens):
    officer = signed_in()
    page = officer.get("/oversight/indicators.csv?from=2026-03-01&to=2026-03-02&group_by=channel")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="oversight-stats-channel-2026-03-01-2026-03-02.csv"'
        in (page.headers["Content-Disposition"])
    )
    api = app.test_client().get(
        "/api/v1/oversight/stats?from=2026-03-01&to=2026-03-02&group_by=channel&format=csv",
        headers=bearer(tokens["oversight"]),
    )
    assert page.get_data(as_text=True) == api.get_data(as_text=True)
    ratings = officer.get("/oversight/indicators.csv?source=ratings")
    assert ratings.get_data(as_text=True).startswith("department,ratings,")
    assert officer.get("/oversight/indicators.csv?from=nope").status_code == 422


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(signed_in):
    officer = signed_in()
    response = officer.post("/oversight/appeals/1/decide", data={"upheld": "yes", "reason": "x"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert officer.post("/oversight/integrity/verify").status_code == 400


def test_deciding_an_unknown_appeal_is_a_message_not_an_error(signed_in):
    officer = signed_in()
    token = csrf_of(officer.get("/oversight/appeals").get_data(as_text=True))
    response = officer.post(
        "/oversight/appeals/999/decide",
        data={"upheld": "yes", "reason": "理由", "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "未能复核" in response.get_data(as_text=True)
    missing = officer.post(
        "/oversight/appeals/999/decide", data={"reason": "理由", "csrf_token": token}
    )
    assert missing.status_code == 422


def test_verify_on_a_clean_record_passes(signed_in, submit):
    assert submit().status_code == 201
    officer = signed_in()
    token = csrf_of(officer.get("/oversight/integrity").get_data(as_text=True))
    html = officer.post("/oversight/integrity/verify", data={"csrf_token": token}).get_data(
        as_text=True
    )
    assert "核验通过" in html
    assert "尚无检查点" in html


def test_the_access_record_filters_by_period_and_principal(app, signed_in, submit, tokens):
    from windowsvc.services.oversight import access

    number = submit().json["number"]
    app.test_client().get(f"/api/v1/applications/{number}", headers=bearer(tokens["supervisor"]))
    with app.app_context():
        records, total = access.listing()
        assert total >= 1
        who = records[0]["principal_id"]
        today = clock.today()
        assert access.listing(date_from=today, date_to=today)[1] == total
        assert access.listing(date_to=today - timedelta(days=1))[1] == 0
        assert access.listing(date_from=today + timedelta(days=1))[1] == 0
        assert access.listing(principal_id=who, date_from=today)[1] >= 1
        assert (who, records[0]["principal_name"], records[0]["role"]) in access.principals()
    officer = signed_in()
    html = officer.get(f"/oversight/integrity?principal={who}&from={today}").get_data(as_text=True)
    assert number in html
    later = (today + timedelta(days=1)).isoformat()
    html = officer.get(f"/oversight/integrity?from={later}").get_data(as_text=True)
    assert number not in html and "没有符合条件的记录" in html
    assert officer.get("/oversight/integrity?from=x&principal=abc").status_code == 422


def test_provisional_cases_lists_open_cases_with_a_provisional_due_date(app, submit):
    from windowsvc.extensions import db
    from windowsvc.models import Application
    from windowsvc.services.calendar import notices

    first, second = submit().json["number"], submit().json["number"]
    with app.app_context():
        row = db.session.query(Application).filter_by(number=first).one()
        row.legal_due_date_provisional = True
        db.session.commit()
        cases, total = notices.provisional_cases()
        numbers = [c.number for c in cases]
        assert first in numbers and second not in numbers
        assert total == notices.coverage()["open_cases_provisional"]


def test_weeks_cut_the_period_and_keep_the_last_26():
    from windowsvc.web.oversight_views import MAX_WEEKS, weeks

    assert weeks(date(2026, 12, 1), date(2026, 12, 1)) == [(date(2026, 12, 1), date(2026, 12, 1))]
    found = weeks(date(2026, 11, 1), date(2026, 12, 1))  # Sunday to Tuesday
    assert found[0] == (date(2026, 11, 1), date(2026, 11, 1))
    assert found[-1] == (date(2026, 11, 30), date(2026, 12, 1))
    assert all(a.weekday() == 0 for a, _ in found[1:])
    long = weeks(date(2000, 1, 1), date(2026, 12, 1))
    assert len(long) == MAX_WEEKS and long[-1][1] == date(2026, 12, 1)
    assert weeks(date.min, date.min + timedelta(days=3))[0][0] == date.min


def test_last_checkpoint_is_the_newest(app, submit):
    from windowsvc.services.oversight import audit

    assert submit().status_code == 201
    with app.app_context():
        assert audit.last_checkpoint() is None
        made = audit.checkpoint()
        summary = audit.last_checkpoint()
        assert summary["id"] == made.id and summary["case_count"] == 1
        assert isinstance(summary["at"], datetime)
