"""Keep weekly_points in step with activity inside the database.

The weekly leaderboard reads weekly_points, a pre-aggregate of activity (one row per
member and ISO week). Triggers maintain it in the same statement that writes activity,
so the two can never disagree and an event needs no extra round trip for it.
Follow-ups cleared on time also count in on_time_reviews.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """
    CREATE TRIGGER activity_weekly_insert AFTER INSERT ON activity
    WHEN NEW.points != 0 OR NEW.kind = 'followup_on_time'
    BEGIN
        INSERT INTO weekly_points (member_id, week_start, points, on_time_reviews)
        VALUES (NEW.member_id, date(NEW.local_date, 'weekday 0', '-6 days'), NEW.points,
                NEW.kind = 'followup_on_time')
        ON CONFLICT (member_id, week_start) DO UPDATE SET
            points = points + excluded.points,
            on_time_reviews = on_time_reviews + excluded.on_time_reviews;
    END
    """,
    """
    CREATE TRIGGER activity_weekly_delete AFTER DELETE ON activity
    WHEN OLD.points != 0 OR OLD.kind = 'followup_on_time'
    BEGIN
        UPDATE weekly_points SET
            points = points - OLD.points,
            on_time_reviews = on_time_reviews - (OLD.kind = 'followup_on_time')
        WHERE member_id = OLD.member_id
          AND week_start = date(OLD.local_date, 'weekday 0', '-6 days');
    END
    """,
]

POSTGRES_UP = [
    """
    CREATE FUNCTION studybot_activity_weekly() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO weekly_points (member_id, week_start, points, on_time_reviews)
            VALUES (NEW.member_id, date_trunc('week', NEW.local_date)::date, NEW.points,
                    (NEW.kind = 'followup_on_time')::int)
            ON CONFLICT (member_id, week_start) DO UPDATE SET
                points = weekly_points.points + excluded.points,
                on_time_reviews = weekly_points.on_time_reviews + excluded.on_time_reviews;
            RETURN NEW;
        END IF;
        UPDATE weekly_points SET
            points = points - OLD.points,
            on_time_reviews = on_time_reviews - (OLD.kind = 'followup_on_time')::int
        WHERE member_id = OLD.member_id
          AND week_start = date_trunc('week', OLD.local_date)::date;
        RETURN OLD;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER activity_weekly AFTER INSERT OR DELETE ON activity
    FOR EACH ROW EXECUTE FUNCTION studybot_activity_weekly()
    """,
]


def upgrade() -> None:
    statements = POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER activity_weekly ON activity")
        op.execute("DROP FUNCTION studybot_activity_weekly()")
    else:
        op.execute("DROP TRIGGER activity_weekly_insert")
        op.execute("DROP TRIGGER activity_weekly_delete")
