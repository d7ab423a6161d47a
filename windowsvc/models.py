"""SQLAlchemy tables. Thin on purpose: the rules live in ``rules/`` and ``workflows/``."""

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .db import UTCDateTime, utcnow_column_default
from .extensions import db

Json = JSON().with_variant(JSONB(), "postgresql")


class Principal(db.Model):
    """Someone or something holding a bearer token: a clerk, a department system, an officer."""

    __tablename__ = "principals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow_column_default, nullable=False)
    revoked_at = mapped_column(UTCDateTime)


class StaffAccount(db.Model):
    """A person's sign-in for the pages: username and scrypt hash, tied to a principal (role,
    department, name). Failed sign-ins are counted here, so every worker sees the same count."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    principal_id: Mapped[int] = mapped_column(ForeignKey("principals.id"), unique=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until = mapped_column(UTCDateTime)
    last_sign_in_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow_column_default, nullable=False)

    principal = relationship("Principal")


class Department(db.Model):
    """A department (部门) that handles steps of service items."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class CatalogItem(db.Model):
    """One version of a service item (事项); never changed once an application uses it."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(10))
    legal_days: Mapped[int] = mapped_column(Integer)
    promised_days: Mapped[int] = mapped_column(Integer)
    instant: Mapped[bool] = mapped_column(Boolean, default=False)
    definition = mapped_column(Json, nullable=False)
    digest: Mapped[str] = mapped_column(String(64))
    loaded_at = mapped_column(UTCDateTime, default=utcnow_column_default, nullable=False)


class Application(db.Model):
    """One application (办件) under one unified acceptance number (统一受理号)."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_state_item", "state", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(22), unique=True)
    query_code_hash: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"))
    item_code: Mapped[str] = mapped_column(String(64))
    item_version: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(6))
    channel: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    applicant = mapped_column(Json, nullable=False)
    materials = mapped_column(Json, nullable=False, default=list)
    missing = mapped_column(Json, nullable=False, default=list)
    deferred = mapped_column(Json, nullable=False, default=list)
    delivery = mapped_column(Json)
    details = mapped_column(Json, nullable=False, default=dict)
    received_at = mapped_column(UTCDateTime, nullable=False)
    accepted_at = mapped_column(UTCDateTime)
    acceptance_date = mapped_column(Date, index=True)
    due_date = mapped_column(Date)
    legal_due_date = mapped_column(Date)
    # a day of a year without the official holiday notice went into the date (预计, 待确认)
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    legal_due_date_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    correction_requested_at = mapped_column(UTCDateTime)
    concluded_at = mapped_column(UTCDateTime)
    # 办结: the day the case ended (decision, refusal, withdrawal, termination), and the working
    # days it used net of paused days (特别程序, department corrections): the on-time indicators.
    concluded_on = mapped_column(Date, index=True)
    working_days_used: Mapped[int | None] = mapped_column(Integer)
    paused_working_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pause_started_on = mapped_column(Date)
    delivery_method: Mapped[str | None] = mapped_column(String(20))
    # 一证通办: every evidence-backed required material was fetched from shared data
    one_id: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    warning_level: Mapped[str | None] = mapped_column(String(20), index=True)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("principals.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at = mapped_column(UTCDateTime, default=utcnow_column_default, nullable=False)
    # The head of the case's event chain (its last event), kept here so appending needs no read;
    # the events themselves remain the evidence and are what verification checks.
    last_event_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_event_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="0" * 64)

    # Versions are bumped once per use case by services (touch); the ORM adds "WHERE version = ?".
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Step(db.Model):
    """One back-office step of a case for one department; also the task a department fetches."""

    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint("application_id", "code"),
        Index("ix_steps_application_stage", "application_id", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    stage: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(140))
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(100), index=True)
    member_item: Mapped[str | None] = mapped_column(String(64))
    days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=50)
    due_date = mapped_column(Date)
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # working days pauses moved the due date on (None: moved before they were counted here)
    moved_working_days: Mapped[int | None] = mapped_column(Integer, default=0)
    available_at = mapped_column(UTCDateTime, nullable=False)
    lock_owner: Mapped[str | None] = mapped_column(String(200))
    lock_expires_at = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    retries: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    result = mapped_column(Json)
    missing = mapped_column(Json)
    opened_at = mapped_column(UTCDateTime, nullable=False)
    completed_at = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(200))

    application = relationship(Application, backref=backref("steps", order_by="Step.id"))


# The task queue's order: most urgent first, then the oldest due date (fetch-and-lock).
Index("ix_steps_queue", Step.department, Step.state, Step.priority.desc(), Step.due_date, Step.id)


class OutboxMessage(db.Model):
    """A side effect leaving the process (push call, notice), written in the same transaction."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    payload = mapped_column(Json, nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at = mapped_column(UTCDateTime, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, nullable=False)
    sent_at = mapped_column(UTCDateTime)

    @property
    def title(self) -> str | None:
        """A notice's title (告知书的名称), as the notifier sends it."""
        return (self.payload or {}).get("title")

    @property
    def event(self) -> str | None:
        """The lifecycle event the notice tells of."""
        return (self.payload or {}).get("event")


class Event(db.Model):
    """One entry of a case's lifecycle record; append-only, hash-chained per application."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("application_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(60))
    at = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    details = mapped_column(Json, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(db.Model):
    """Remembers an intake request by its Idempotency-Key so a retry never creates a second case.

    Written in the transaction that creates the case, so a row is always "done"; an attempt still
    running is known by its live claim (``live_claims``), not by a row.
    """

    __tablename__ = "idempotency_keys"

    principal_id: Mapped[int] = mapped_column(ForeignKey("principals.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body = mapped_column(Json)
    created_at = mapped_column(UTCDateTime, nullable=False)


class NumberSequence(db.Model):
    """The last sequence number issued per region, desk date and channel."""

    __tablename__ = "number_sequences"

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    desk_date: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel_digit: Mapped[str] = mapped_column(String(1), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, nullable=False)


class AccessRecord(db.Model):
    """行为监控: a staff member or department system saw a case's full personal data."""

    __tablename__ = "access_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    principal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    principal_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40))
    at = mapped_column(UTCDateTime, nullable=False, index=True)


class CalendarYear(db.Model):
    """A year an administrator declared complete in ``calendar_days`` (the official notice)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(Text, default="")
    loaded_at = mapped_column(UTCDateTime)


class CalendarState(db.Model):
    """The calendar's revision: one row, bumped by every load that changes the calendar.

    Transactions that count deadlines read it with a share lock, and a load takes it FOR UPDATE:
    no deadline is counted on the old calendar and committed after the load's recount.
    """

    __tablename__ = "calendar_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)


class CalendarLoad(db.Model):
    """One load of a holiday notice that changed the calendar, and what it counted again."""

    __tablename__ = "calendar_loads"

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, nullable=False)
    by_name: Mapped[str] = mapped_column(String(100))
    years = mapped_column(Json, nullable=False)
    days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    recomputed = mapped_column(Json, nullable=False)


class CalendarDay(db.Model):
    """An administrator's override of the working-day calendar (holiday or make-up working day)."""

    __tablename__ = "calendar_days"

    day = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")


class AuditCheckpoint(db.Model):
    """A periodic digest over every case's chain head (审计检查点); append-only like the events."""

    __tablename__ = "audit_checkpoints"
    # one checkpoint per cut: concurrent sweeps deciding the same cut collide here (0009)
    __table_args__ = (Index("uq_audit_checkpoints_last_event_id", "last_event_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, nullable=False)
    # The cut: every event with an id up to this one had committed when the checkpoint was taken.
    last_event_id: Mapped[int] = mapped_column(Integer, nullable=False)
    event_count: Mapped[int] = mapped_column(Integer, nullable=False)
    case_count: Mapped[int] = mapped_column(Integer, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)


class Rating(db.Model):
    """好差评: the applicant's one rating of a concluded case (一事一评); never deleted.

    It attaches to the case, the window that accepted it and every department that handled a
    step. The rater is the applicant by definition and is not stored again.
    """

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    tags = mapped_column(Json, nullable=False, default=list)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    window_principal_id: Mapped[int | None] = mapped_column(ForeignKey("principals.id"))
    departments = mapped_column(Json, nullable=False, default=list)
    # 默认好评: given by the sweep when no rating came within the configured working days
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # an upheld appeal (申诉成立) takes the rating out of the statistics, nothing more
    excluded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    excluded_at = mapped_column(UTCDateTime)
    rated_at = mapped_column(UTCDateTime, nullable=False)
    rated_on = mapped_column(Date, nullable=False, index=True)

    application = relationship(Application)


class Rectification(db.Model):
    """差评整改: the work order a bad rating opens for the responsible department."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    department: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    due_date = mapped_column(Date, nullable=False)
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    due_working_days: Mapped[int | None] = mapped_column(Integer)
    opened_at = mapped_column(UTCDateTime, nullable=False)
    contacted_at = mapped_column(UTCDateTime)
    follow_up_summary: Mapped[str | None] = mapped_column(Text)
    followed_up_at = mapped_column(UTCDateTime)
    measures: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    closed_at = mapped_column(UTCDateTime)
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_at = mapped_column(UTCDateTime)
    appealed_from: Mapped[str | None] = mapped_column(String(20))
    appeal_upheld: Mapped[bool | None] = mapped_column(Boolean)
    appeal_decision: Mapped[str | None] = mapped_column(Text)
    appeal_decided_at = mapped_column(UTCDateTime)
    verdict: Mapped[str | None] = mapped_column(String(30))
    verdict_at = mapped_column(UTCDateTime)
    updated_at = mapped_column(UTCDateTime, nullable=False)

    rating = relationship(Rating, backref=backref("rectification", uselist=False))
    application = relationship(Application)
