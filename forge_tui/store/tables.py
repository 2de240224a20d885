"""The SQLite tables (DESIGN §2). Migrations in store/migrations create them; a test keeps both in step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str = ""
    kdf_salt: bytes
    kdf_params: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    wrapped_key: bytes
    recovery_salt: bytes
    wrapped_recovery_key: bytes
    key_check: bytes
    default_generation_model: str | None = None
    default_paraphrase_model: str | None = None
    current_dataset_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("dataset.id", ondelete="SET NULL", use_alter=True, name="fk_user_current_dataset"),
            nullable=True,
        ),
    )
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))
    # Content stored in plaintext before revision 0004 waits for this user's next unlock to be sealed.
    seal_pending: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str
    at: float
    ok: bool = False


class Template(SQLModel, table=True):
    """A prompt template. Its name, prompts, slots and tools are one sealed JSON value (`content`);
    SQL finds and keeps names unique through `name_tag`, a keyed hash of the name."""

    __tablename__ = "template"
    __table_args__ = (UniqueConstraint("owner_id", "name_tag"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False))
    name_tag: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Fingerprint of the data key that sealed `content` (an older one after a reset without recovery key).
    key_check: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # The plaintext JSON a database from before revision 0004 held, until the owner's next unlock seals it.
    legacy: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SystemPromptHistory(SQLModel, table=True):
    __tablename__ = "system_prompt_history"

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(
        sa_column=Column(Integer, ForeignKey("template.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    text: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # sealed
    legacy_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # as Template.legacy
    saved_at: datetime = Field(default_factory=utcnow)


class Dataset(SQLModel, table=True):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False))
    name: str
    description: str = ""
    salt: bytes
    # Fingerprint of the data key that seals this dataset; differs after a reset without recovery key.
    key_check: bytes
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Example(SQLModel, table=True):
    __tablename__ = "example"
    # insert_id is in the indexes so that the visibility test (store.staged_inserts) needs no row read
    # when counting or paging; the second one pages the examples of one desirability (KTO filter).
    __table_args__ = (
        Index("ix_example_dataset_id_id_insert_id", "dataset_id", "id", "insert_id"),
        Index("ix_example_dataset_id_desirability_id", "dataset_id", "desirability", "id", "insert_id"),
        Index("ix_example_dataset_id_review_id", "dataset_id", "review", "id", "insert_id"),
        Index("ix_example_dataset_id_source_id", "dataset_id", "source", "id", "insert_id"),
        Index("ix_example_dataset_id_score_id", "dataset_id", "score", "id", "insert_id"),
        Index("ix_example_job_id", "job_id"),
    )

    # Time-ordered text ids, made before the insert so they can be bound into the sealed fields.
    id: str = Field(primary_key=True)
    dataset_id: int = Field(sa_column=Column(Integer, ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False))
    template_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("template.id", ondelete="SET NULL"), nullable=True)
    )
    system_prompt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    user_prompt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    slots: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    output: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    tool_calls: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    rejected: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    turns: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Sealed like turns, NULL when empty: the model's reasoning, and imported fields no mapping took.
    reasoning: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    extra: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # KTO label, plain so that SQL can filter on it: 1 desirable, 0 undesirable, NULL not labelled.
    desirability: bool | None = None
    # Plain, so that SQL can filter on them (core.models.ExampleSource / ReviewState values).
    source: str = Field(default="audition", sa_column_kwargs={"server_default": "audition"})
    job_id: int | None = None
    review: str = Field(default="accepted", sa_column_kwargs={"server_default": "accepted"})
    language_flag: str | None = None
    # An LLM judge's score (1-10), None until judged; the rest of the judgement is in ExampleJudgement.
    score: float | None = None
    rejected_count: int = 0
    model: str = ""
    params: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # sealed
    # Generation parameters a database from before revision 0004 held in plaintext, until sealed.
    legacy_params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The staged insert that wrote the row (an import, an undo); hidden while that is pending.
    insert_id: int | None = None


class PendingInsert(SQLModel, table=True):
    """Rows written in several short transactions and not shown yet: every example whose insert_id
    names a row here is hidden, and deleting the row shows them all at once."""

    __tablename__ = "pending_insert"
    # AUTOINCREMENT: an id is never handed out twice, or old examples would hide again.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(sa_column=Column(Integer, ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False))
    # The process writing it: when that process is gone, the rows are discarded at the next start.
    host: str
    pid: int
    started_at: float


class ExportTemplate(SQLModel, table=True):
    """A custom export format of one account: its name and Jinja2 body sealed together, as Template."""

    __tablename__ = "export_template"
    __table_args__ = (UniqueConstraint("owner_id", "name_tag"),)

    id: int | None = Field(default=None, primary_key=True)
    # NULL only for a format kept from before revision 0004 in a database that had no account yet.
    owner_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=True)
    )
    name_tag: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    key_check: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    legacy: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    category: str = "custom"
    builtin: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Job(SQLModel, table=True):
    """Unattended work on a dataset (a generation job): its whole plan is written before it starts.
    `name` and `spec` are content (slot values, instructions), sealed with the account's keys
    (`key_check` names the data key); `params` holds only what is not content (model, counts)."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: str
    name: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    dataset_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("dataset.id", ondelete="CASCADE"), nullable=True)
    )
    template_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("template.id", ondelete="SET NULL"), nullable=True)
    )
    spec: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_check: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = "planned"  # services.jobs.JobState
    total: int = 0
    done: int = 0
    failed: int = 0
    pause_reason: str | None = None
    error: str | None = None
    # The process running it, and when it last said so (once a second): a job whose runner is gone
    # (killed) can be resumed by another process.
    runner_host: str | None = None
    runner_pid: int | None = None
    heartbeat_at: float | None = None
    # Per endpoint (core.pool_stats.EndpointStats.to_json), written with the heartbeat.
    endpoint_stats: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # "finish" (the default) lets requests in flight end when the job is paused; "cancel" drops them.
    pause_in_flight: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobItem(SQLModel, table=True):
    """One planned item of a job: its inputs (sealed, bound to the job and index) and seed, and what
    became of it. A done item names its example, written in the same transaction."""

    __tablename__ = "job_item"
    __table_args__ = (
        UniqueConstraint("job_id", "idx"),
        Index("ix_job_item_job_id_status_idx", "job_id", "status", "idx"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), nullable=False))
    idx: int
    inputs: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    seed: int
    status: str = "pending"  # store.jobs.ItemState
    attempt: int = 0
    # Why it failed, plain (never content), and the kind of failure (store.jobs.FailureKind).
    error: str | None = None
    error_kind: str | None = None
    # Indexed: deleting an example looks up the items naming it (ON DELETE SET NULL).
    example_id: str | None = Field(
        default=None, sa_column=Column(ForeignKey("example.id", ondelete="SET NULL"), nullable=True, index=True)
    )
    finished_at: float | None = None


class KeyRotation(SQLModel, table=True):
    """A key rotation in progress (store.key_rotation): the new data key, wrapped under the current
    one, and both keys' fingerprints. Deleted in the transaction that makes the new key the account's."""

    __tablename__ = "key_rotation"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True))
    wrapped_key: bytes
    old_check: bytes
    new_check: bytes
    started_at: float


class ResealShadow(SQLModel, table=True):
    """An example re-sealed under the new key of a rotation, waiting for its dataset's switch.
    `old_digest` is a hash of the row's sealed values it was made from: a row changed since is
    re-sealed again at the switch."""

    __tablename__ = "reseal_shadow"

    example_id: str = Field(sa_column=Column(ForeignKey("example.id", ondelete="CASCADE"), primary_key=True))
    dataset_id: int = Field(
        sa_column=Column(Integer, ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    old_digest: bytes
    sealed: bytes


class JobBatchAnswer(SQLModel, table=True):
    """An answer read back from an offline batch (services.batch_files) for a request of an item that
    needs more than one (a preference pair, a conversation), kept until the item's last request is
    answered. The answer is content: sealed with the account's keys, bound to "job:index:request"."""

    __tablename__ = "job_batch_answer"

    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), primary_key=True))
    idx: int = Field(primary_key=True)
    req: int = Field(primary_key=True)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ExampleJudgement(SQLModel, table=True):
    """An LLM judge's judgement of an example beyond its score (core.judging.Judgement as JSON: rubric,
    model, sub-scores, reason, verdict). The reason is content: sealed with the account's keys
    (`key_check` names the data key), bound to the example's id."""

    __tablename__ = "example_judgement"

    example_id: str = Field(sa_column=Column(ForeignKey("example.id", ondelete="CASCADE"), primary_key=True))
    dataset_id: int = Field(
        sa_column=Column(Integer, ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_check: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    judged_at: datetime = Field(default_factory=utcnow)


class RubricRow(SQLModel, table=True):
    """A custom judge rubric of one account (core.rubrics): its name, Jinja2 template and few-shot
    count sealed together as one JSON value; `name_tag` (a keyed hash) finds a name."""

    __tablename__ = "rubric"
    __table_args__ = (UniqueConstraint("owner_id", "name_tag"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name_tag: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_check: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class SavedConfigRow(SQLModel, table=True):
    """A saved job configuration of one account (core.job_configs): the whole configuration, its
    name and kind included, sealed as one JSON value; `name_tag` (a keyed hash) finds a name."""

    __tablename__ = "saved_config"
    __table_args__ = (UniqueConstraint("owner_id", "name_tag"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name_tag: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_check: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class DedupCluster(SQLModel, table=True):
    """A cluster of duplicate examples found by the last dedup of a dataset (services.dedup): example
    ids and similarities only, no content. `similarity` holds [i, j, s] for members i < j;
    `decision` is "open", "kept" (the ids in `kept` stay, the others were rejected) or "all";
    `dropped` maps each example this rejected to its review state before, so a drop can be undone."""

    __tablename__ = "dedup_cluster"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(
        sa_column=Column(Integer, ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int
    method: str  # "exact", "minhash" or "embeddings"
    threshold: float
    exact: bool
    members: list[str] = Field(sa_column=Column(JSON, nullable=False))
    similarity: list[list[float]] = Field(sa_column=Column(JSON, nullable=False))
    decision: str = "open"
    kept: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    dropped: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    made_at: datetime = Field(default_factory=utcnow)


class DocumentRow(SQLModel, table=True):
    """A document of one account's document set (grounding for generation: store.documents). Its set
    name, file name and kind (`meta`) and its text are content, sealed with the account's keys
    (`key_check` names the data key); `set_tag` and `name_tag` (keyed hashes of the set name, and of the
    set and file names) let SQL find a set and keep a file once per set."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("owner_id", "name_tag"),
        Index("ix_document_owner_id_set_tag", "owner_id", "set_tag"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False))
    set_tag: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    name_tag: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    meta: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    text: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_check: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    chars: int = 0
    chunk_tokens: int
    chunk_overlap: int
    created_at: datetime = Field(default_factory=utcnow)


class ChunkRow(SQLModel, table=True):
    """A passage of a document (core.chunking.Chunk as JSON: text, heading, line, offsets, tokens),
    sealed with its document's keys and bound to "document:position"."""

    __tablename__ = "chunk"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=Column(Integer, ForeignKey("document.id", ondelete="CASCADE"), nullable=False))
    position: int
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
