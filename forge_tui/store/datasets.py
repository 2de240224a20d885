"""Dataset rows."""

from __future__ import annotations

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from forge_tui.core.models import DatasetInfo
from forge_tui.store.tables import Dataset, Example
from forge_tui.store.visibility import VISIBLE_SQL


def to_info(dataset: Dataset, example_count: int, readable: bool) -> DatasetInfo:
    assert dataset.id is not None
    return DatasetInfo(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        archived=dataset.archived,
        created_at=dataset.created_at,
        example_count=example_count,
        readable=readable,
    )


def list_for_owner(session: Session, owner_id: int, include_archived: bool) -> list[tuple[Dataset, int]]:
    counts = (
        select(Example.dataset_id, func.count().label("n"))
        .where(text(VISIBLE_SQL))
        .group_by(col(Example.dataset_id))
        .subquery()
    )
    query = (
        select(Dataset, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.dataset_id == Dataset.id)
        .where(Dataset.owner_id == owner_id)
    )
    if not include_archived:
        query = query.where(col(Dataset.archived).is_(False))
    query = query.order_by(col(Dataset.archived), func.lower(Dataset.name))
    return [(ds, int(n)) for ds, n in session.exec(query).all()]


def get_by_name(session: Session, owner_id: int, name: str) -> Dataset | None:
    return session.exec(select(Dataset).where(Dataset.owner_id == owner_id, Dataset.name == name)).first()


def get_owned(session: Session, owner_id: int, dataset_id: int) -> Dataset | None:
    return session.exec(select(Dataset).where(Dataset.owner_id == owner_id, Dataset.id == dataset_id)).first()


def count_examples(session: Session, dataset_id: int) -> int:
    query = select(func.count()).select_from(Example).where(Example.dataset_id == dataset_id, text(VISIBLE_SQL))
    return int(session.exec(query).one())
