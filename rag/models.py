"""Pydantic types shared by every stage: Document, Chunk, Passage, Citation, Answer.

One ``Answer`` feeds the CLI's ``--json``, the app's source cards and the eval
harness, so what a user sees is what the evals score. No behaviour lives here
beyond small derived properties.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from rag.dates import published_label

Language = Literal["en", "zh"]


class Document(BaseModel):
    """A cleaned article: boilerplate removed, metadata lifted out of the body."""

    doc_id: str = Field(description="File stem of the source file.")
    title: str
    text: str = Field(description="Cleaned body text; chunk spans index into it.")
    outlet: str | None = None
    author: str | None = None
    published: str | None = Field(None, description="Publication date as ISO 8601 where known.")
    url: str | None = None
    language: Language
    source: str = Field(description="Path of the file it was loaded from.")
    file_hash: str = Field(description="sha256 of the raw file bytes.")


class Chunk(BaseModel):
    """A span of a document's cleaned text, packed from whole sentences."""

    chunk_id: str = Field(description="'<doc_id>#<nnnn>'.")
    doc_id: str
    text: str
    start: int = Field(description="Character offset of the chunk in Document.text.")
    end: int
    content_hash: str
    language: Language
    sentences: list[tuple[int, int]] = Field(
        default_factory=list, description="Sentence spans, relative to the chunk text."
    )


class SourceRef(BaseModel):
    """Where a passage comes from: the chunk and its article's metadata."""

    chunk_id: str
    doc_id: str
    title: str
    outlet: str | None = None
    published: str | None = None
    url: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def date_label(self) -> str:
        """The publication date, or plainly "no date given" (the app shows it in the reader's language)."""
        return published_label(self.published, "en")


class Passage(SourceRef):
    """A retrieved chunk with its metadata and the scores that ranked it."""

    n: int = Field(0, description="1-based number used in [n] markers; 0 until numbered.")
    text: str
    language: Language
    score: float = Field(0.0, description="Fused (RRF) score.")
    dense_score: float | None = None
    keyword_score: float | None = None

    def cite(self, quote: str, span: tuple[int, int]) -> Citation:
        """A citation of this passage, supported by ``quote`` at ``span`` in its text."""
        return Citation(n=self.n, quote=quote, span=span, **self.model_dump(include=set(SourceRef.model_fields)))


class Sentence(BaseModel):
    """One stored sentence of a retrieved passage, scored against the question."""

    chunk_id: str
    text: str
    start: int = Field(description="Character offset in the passage text.")
    end: int
    language: Language
    embedding: list[float] = Field(default_factory=list, exclude=True, repr=False)
    score: float = Field(0.0, description="Evidence score: relevance to the question (see rag.answer.evidence).")


class Retrieval(BaseModel):
    """What the retrieval stage returns: the ranked passages and every one of their sentences, scored.

    ``sentences`` maps each passage's chunk id to its sentences in passage order, each
    with ``score`` = its best mean-centred cosine to any query: the relevance evidence
    the answer stage selects from and the refusal decision reads.
    """

    question: str
    queries: list[str] = Field(default_factory=list, description="The question, then its translations.")
    passages: list[Passage] = Field(default_factory=list)
    sentences: dict[str, list[Sentence]] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)


class EvidenceItem(BaseModel):
    """A sentence chosen to answer the question, with its neighbours as context."""

    n: int = Field(description="Number of the passage it belongs to (the [n] a citation of it carries).")
    sentence: Sentence
    before: Sentence | None = Field(None, description="The sentence before it in the passage, for context.")
    after: Sentence | None = Field(None, description="The sentence after it in the passage, for context.")

    @property
    def sentences(self) -> list[Sentence]:
        """The sentence and its neighbours, in passage order."""
        return [s for s in (self.before, self.sentence, self.after) if s is not None]


class Evidence(BaseModel):
    """What the answer is built from, streamed before any generated text."""

    question: str
    standalone_question: str
    queries: list[str] = Field(default_factory=list, description="Texts searched (the question and its translation).")
    passages: list[Passage] = Field(default_factory=list)
    items: list[EvidenceItem] = Field(default_factory=list)
    checked: list[str] = Field(
        default_factory=list, description="The sentences the model's yes/no check reads, best first, when they differ "
        "from the items': every sentence chosen, before a how-much question's evidence is cut to those stating the figure.")
    relevance: float = Field(-1.0, description="Best evidence similarity (mean-centred cosine).")
    term_overlap: float = Field(0.0, description="Share of the question's terms found in the evidence, across languages.")
    states_figure: bool = Field(True, description="False when a how-much question's evidence states no figure of what it asks.")
    unknown_terms: list[str] = Field(
        default_factory=list, description="Names the question asks about that no article mentions in any form, or "
        "its topic words when no article mentions any of them (rag.answer.unknown).")
    named: bool = Field(True, description="The question names someone or something (a glossary name, a capitalised word).")
    unstated: list[str] = Field(
        default_factory=list, description="The question's words for a fact it asks (a salary, a verdict, who founded "
        "it…) that no evidence sentence states in any of the fact's words (rag.answer.attributes).")


class Citation(SourceRef):
    """One [n] marker resolved to the passage it names and the sentence that supports it."""

    n: int
    quote: str = Field(description="Supporting sentence, verbatim from the passage.")
    span: tuple[int, int] = Field(description="Character span of quote in the passage text.")


class ConflictSide(BaseModel):
    """One source's figure for a disputed quantity, as the sentence writes it."""

    value: str = Field(description="The figure as written, e.g. '超过4400万美元'.")
    amount: float | None = Field(None, description="The figure as a number (money in units of currency).")
    n: int = Field(description="The [n] of the passage it is quoted from.")
    attribution: str = Field(description="Who states it, e.g. 'Musk says' / 'the emails Altman published'.")
    quote: str
    chunk_id: str
    doc_id: str
    span: tuple[int, int] = Field(description="Character span of quote in the passage text.")
    outlet: str | None = None
    published: str | None = None


class Conflict(BaseModel):
    """Sources (or one source quoting two parties) that give different figures for the same thing."""

    topic: str = Field(description="What the figures are about, e.g. 'Musk · gave (money)'.")
    kind: Literal["money", "percent", "count"]
    relation: str = Field(description="What the figure measures: gave, promised, invested, raised, offered, …")
    sides: list[ConflictSide]


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class Answer(BaseModel):
    """The one result object of a question."""

    question: str
    answer: str
    refused: bool
    language: Language
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    model: str
    embedding_model: str
    standalone_question: str | None = Field(
        None, description="The question as sent to retrieval after follow-up condensing."
    )
    relevance: float | None = Field(
        None, description="Best mean-centred question–sentence cosine; below the threshold → refused."
    )
    unsupported: list[str] = Field(
        default_factory=list, description="Answer sentences whose citations did not support them (markers dropped)."
    )
    incomplete: bool = Field(False, description="True when the model stream broke off.")
    notice: str | None = Field(None, description="A note for the reader, e.g. extractive mode.")
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: Usage | None = None
    conflicts: list[Conflict] = Field(
        default_factory=list, description="Different figures the evidence gives for the same thing."
    )

    @property
    def cited_passages(self) -> list[Passage]:
        cited = {c.n for c in self.citations}
        return [p for p in self.passages if p.n in cited]
