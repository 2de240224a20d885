"""Template rows and the system-prompt history (plain columns; templates hold no example content)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from forge_tui.core.chat import ToolDef
from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.store.tables import SystemPromptHistory, Template, utcnow

HISTORY_KEEP = 10


def to_info(row: Template) -> TemplateInfo:
    return TemplateInfo(
        id=row.id,
        name=row.name,
        system_prompt=row.system_prompt,
        user_prompt=row.user_prompt,
        slots=[SlotDef.model_validate(s) for s in row.slots],
        is_tool_calling=row.is_tool_calling,
        tools=[ToolDef.model_validate(t) for t in row.tools],
        archived=row.archived,
    )


def write_body(row: Template, info: TemplateInfo) -> None:
    """Copies everything but the name, the system prompt and the archived flag onto the row."""
    row.user_prompt = info.user_prompt
    row.slots = [s.model_dump() for s in info.slots]
    row.is_tool_calling = info.is_tool_calling
    row.tools = [t.model_dump() for t in info.tools]
    row.updated_at = utcnow()


def list_for_owner(session: Session, owner_id: int, include_archived: bool, search: str = "") -> list[Template]:
    query = select(Template).where(Template.owner_id == owner_id)
    if not include_archived:
        query = query.where(col(Template.archived).is_(False))
    if search.strip():
        # instr() rather than LIKE: no wildcards to escape in what the user typed.
        query = query.where(func.instr(func.lower(Template.name), search.strip().lower()) > 0)
    return list(session.exec(query.order_by(col(Template.archived), func.lower(Template.name))).all())


def get_owned(session: Session, owner_id: int, template_id: int) -> Template | None:
    return session.exec(select(Template).where(Template.owner_id == owner_id, Template.id == template_id)).first()


def get_by_name(session: Session, owner_id: int, name: str) -> Template | None:
    return session.exec(select(Template).where(Template.owner_id == owner_id, Template.name == name)).first()


def names(session: Session, owner_id: int) -> set[str]:
    return set(session.exec(select(Template.name).where(Template.owner_id == owner_id)).all())


def record_system_prompt(session: Session, template_id: int, text: str) -> None:
    """Adds `text` as the newest saved system prompt; an equal older entry moves to the top, and
    only the newest HISTORY_KEEP distinct texts are kept."""
    session.execute(
        delete(SystemPromptHistory).where(
            col(SystemPromptHistory.template_id) == template_id, col(SystemPromptHistory.text) == text
        )
    )
    session.add(SystemPromptHistory(template_id=template_id, text=text, saved_at=utcnow()))
    session.flush()
    keep = select(SystemPromptHistory.id).where(SystemPromptHistory.template_id == template_id)
    # Row ids grow with every insert (max + 1), so they order saves even within one clock tick.
    keep = keep.order_by(col(SystemPromptHistory.id).desc())
    kept_ids = list(session.exec(keep.limit(HISTORY_KEEP)).all())
    session.execute(
        delete(SystemPromptHistory).where(
            col(SystemPromptHistory.template_id) == template_id, col(SystemPromptHistory.id).not_in(kept_ids)
        )
    )


def system_prompt_history(session: Session, template_id: int) -> list[tuple[str, datetime]]:
    query = (
        select(SystemPromptHistory.text, SystemPromptHistory.saved_at)
        .where(SystemPromptHistory.template_id == template_id)
        .order_by(col(SystemPromptHistory.id).desc())
        .limit(HISTORY_KEEP)
    )
    return [(text, saved_at) for text, saved_at in session.exec(query).all()]
