"""What the Models screen and `forge-tui models` show: a server's models, the loaded ones, a model's
details, and the progress of a pull (per layer, with bytes and rate)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from forge_tui.core.chat import ModelInfo


class LoadedModel(BaseModel):
    """A model a server holds in memory now (Ollama's /api/ps)."""

    name: str
    size: int | None = None
    size_vram: int | None = None
    expires_at: str | None = None
    context_length: int | None = None


class ModelEntry(BaseModel):
    """One model of one endpoint, with whether it is loaded now and the memory it takes then."""

    endpoint: str
    kind: str
    name: str
    size: int | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    family: str | None = None
    context_length: int | None = None
    capabilities: list[str] = Field(default_factory=list)
    modified_at: str | None = None
    loaded: bool = False
    size_vram: int | None = None
    expires_at: str | None = None

    @classmethod
    def of(cls, endpoint: str, kind: str, info: ModelInfo, loaded: LoadedModel | None) -> ModelEntry:
        return cls(
            endpoint=endpoint,
            kind=kind,
            name=info.name,
            size=info.size,
            parameter_size=info.parameter_size,
            quantization=info.quantization,
            family=info.family,
            context_length=(loaded.context_length if loaded and loaded.context_length else None) or info.context_length,
            capabilities=list(info.capabilities),
            modified_at=info.modified_at,
            loaded=loaded is not None,
            size_vram=loaded.size_vram if loaded else None,
            expires_at=loaded.expires_at if loaded else None,
        )


class ModelDetails(BaseModel):
    """What /api/show says of a model (an OpenAI-compatible server: only its name)."""

    endpoint: str
    name: str
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    context_length: int | None = None
    capabilities: list[str] = Field(default_factory=list)
    template: str = ""
    parameters: str = ""
    license: str = ""
    modified_at: str | None = None
    # The model it was made FROM (Ollama's details.parent_model), e.g. the base of a fine-tuned model.
    parent_model: str | None = None


class PullProgress(BaseModel):
    """One line of a pull's progress, as Ollama sends it (ProgressResponse)."""

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


@dataclass
class Layer:
    digest: str
    total: int
    completed: int = 0
    # (time, bytes) when the layer's rate was last measured
    mark: tuple[float, int] = (0.0, 0)
    rate: float = 0.0

    @property
    def fraction(self) -> float:
        return min(self.completed / self.total, 1.0) if self.total else 0.0


@dataclass
class PullBoard:
    """A pull's progress as it arrives: the layers in their order, each with bytes done and a rate in
    bytes per second (smoothed), and the last status that was not a layer's."""

    layers: dict[str, Layer] = field(default_factory=dict)
    status: str = ""
    done: bool = False

    def add(self, line: PullProgress, now: float) -> Layer | None:
        """Takes one line at time `now` (seconds); returns the layer it moved, if any."""
        if line.status == "success":
            self.done = True
        if not line.digest:
            self.status = line.status
            return None
        layer = self.layers.get(line.digest)
        if layer is None:
            layer = self.layers[line.digest] = Layer(line.digest, line.total or 0, mark=(now, line.completed or 0))
        layer.total = line.total or layer.total
        layer.completed = max(layer.completed, line.completed or 0)
        then, had = layer.mark
        if now - then >= 0.25 or layer.completed >= layer.total:
            measured = (layer.completed - had) / (now - then) if now > then else layer.rate
            layer.rate = measured if layer.rate == 0 else 0.5 * layer.rate + 0.5 * measured
            layer.mark = (now, layer.completed)
        self.status = line.status
        return layer

    @property
    def total(self) -> int:
        return sum(layer.total for layer in self.layers.values())

    @property
    def completed(self) -> int:
        return sum(layer.completed for layer in self.layers.values())


def size_text(size: int | None) -> str:
    """1_500_000 -> "1.5 MB" (decimal units, as Ollama shows sizes)."""
    return ModelInfo(name="", size=size).size_text
