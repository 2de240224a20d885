"""User rows and the login-attempt log."""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from forge_tui.core.models import UserInfo
from forge_tui.store.tables import LoginAttempt, User


def to_info(user: User) -> UserInfo:
    assert user.id is not None
    return UserInfo(id=user.id, username=user.username, display_name=user.display_name, created_at=user.created_at)


def get_by_name(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def usernames(session: Session) -> list[str]:
    return list(session.exec(select(User.username).order_by(col(User.username))).all())


def recent_failures(session: Session, username: str, since: float) -> list[float]:
    """Times of failed attempts after `since` and after the last successful one, oldest first."""
    last_ok = session.exec(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, col(LoginAttempt.ok).is_(True))
    ).one()
    floor = max(since, last_ok or 0.0)
    rows = session.exec(
        select(LoginAttempt.at)
        .where(LoginAttempt.username == username, col(LoginAttempt.ok).is_(False), LoginAttempt.at > floor)
        .order_by(col(LoginAttempt.at))
    ).all()
    return list(rows)


def record_attempt(session: Session, username: str, at: float, ok: bool) -> LoginAttempt:
    attempt = LoginAttempt(username=username, at=at, ok=ok)
    session.add(attempt)
    session.flush()
    return attempt


def prune_attempts(session: Session, older_than: float) -> None:
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < older_than))


def mark_attempt_ok(session: Session, attempt_id: int) -> None:
    attempt = session.get(LoginAttempt, attempt_id)
    if attempt is not None:
        attempt.ok = True
