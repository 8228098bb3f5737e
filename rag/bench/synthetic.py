"""Synthetic corpora for scale runs: the seeds' own cleaned sentences recombined into new articles.

A corpus at scale ``s`` holds about ``s`` times the seeds' cleaned text:
for ``s >= 1`` the seed files themselves plus ``s - 1`` seeds' worth of new
articles (so the eval questions still have their gold articles, now among
distractors); for ``s < 1`` only new articles (a tiny corpus for smoke tests).
Each new article copies the language and roughly the length of a randomly
drawn seed, and is filled with runs of 1–4 consecutive sentences (in that
language) from random seeds, never repeating a sentence inside one article.
Ids are new (``syn<scale>_<nnnnn>``). Generation is deterministic for a given
``(scale, seed)`` and touches no network.

What it leaves out: realism beyond the sentence (synthetic articles are not
coherent stories), and any embedding: it writes files, the ingest embeds them.
Because sentences recur across articles, a synthetic article can contain a
gold evidence sentence; ``relevant_docs`` counts such articles as relevant.
"""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.documents import SUFFIXES, load_document
from rag.text import detect_language, normalize, sentence_spans

MIN_SENTENCE_CHARS = 8


@dataclass
class SeedDoc:
    doc_id: str
    language: str
    chars: int
    sentences: list[str]


@dataclass
class Corpus:
    """A directory of article files and what is in it."""

    directory: Path
    scale: float
    seed_docs: list[str]
    synthetic_docs: list[str]
    chars: int
    texts: dict[str, str] = field(default_factory=dict, repr=False)  # synthetic doc_id → normalized text

    @property
    def documents(self) -> int:
        return len(self.seed_docs) + len(self.synthetic_docs)


def seed_files(seeds_dir: Path) -> list[Path]:
    return sorted(p for p in seeds_dir.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))


def read_seeds(seeds_dir: Path) -> list[SeedDoc]:
    """Each seed's cleaned sentences (as the ingest sees them), in order."""
    out = []
    for path in seed_files(seeds_dir):
        doc = load_document(path)
        sents = [doc.text[s:e] for s, e in sentence_spans(doc.text)]
        sents = [s for s in sents if len(s) >= MIN_SENTENCE_CHARS]
        out.append(SeedDoc(doc.doc_id, doc.language, len(doc.text), sents))
    return out


def scale_tag(scale: float) -> str:
    return re.sub(r"[^0-9a-z]", "p", f"{scale:g}")


def _article(
    rng: random.Random, template: SeedDoc, pools: dict[str, list[SeedDoc]], limit: float
) -> tuple[str, str]:
    """(title, body) of one article in the template's language, about its length (at most ``limit``)."""
    lang = template.language
    donors = [d for d in pools.get(lang, []) if d.sentences] or [template]
    target = min(int(template.chars * rng.uniform(0.7, 1.3)), max(int(limit), 200))
    used: set[str] = set()
    sentences: list[str] = []
    size = 0
    stalls = 0
    while size < target and stalls < 50:
        donor = rng.choice(donors)
        run = rng.randint(1, 4)
        start = rng.randrange(len(donor.sentences))
        picked = [s for s in donor.sentences[start : start + run] if s not in used]
        if not picked:
            stalls += 1
            continue
        for s in picked:
            used.add(s)
            sentences.append(s)
            size += len(s)
    joiner = "" if lang == "zh" else " "
    lines, i = [], 0
    while i < len(sentences):
        n = rng.randint(2, 5)
        lines.append(joiner.join(sentences[i : i + n]))
        i += n
    title = sentences[0][:60] if sentences else "Synthetic article"
    return title, "\n\n".join(lines)


def make_corpus(seeds_dir: Path, target_dir: Path, scale: float, seed: int = 0) -> Corpus:
    """Write the corpus for ``scale`` into ``target_dir`` (created; must be empty or absent)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    target_dir.mkdir(parents=True, exist_ok=True)
    seeds = read_seeds(seeds_dir)
    seed_chars = sum(d.chars for d in seeds)
    copied: list[str] = []
    if scale >= 1:
        for path in seed_files(seeds_dir):
            shutil.copyfile(path, target_dir / path.name)
            copied.append(path.stem)
    budget = seed_chars * (scale - 1 if scale >= 1 else scale)
    pools: dict[str, list[SeedDoc]] = {}
    for d in seeds:
        for s in d.sentences:
            # Pool by the sentence's own language: bilingual seeds give to both pools.
            lang = detect_language(s)
            pool = pools.setdefault(lang, [])
            if not pool or pool[-1].doc_id != d.doc_id:
                pool.append(SeedDoc(d.doc_id, lang, 0, []))
            pool[-1].sentences.append(s)
    rng = random.Random(f"rag-bench:{seed}:{scale:g}")
    tag = scale_tag(scale)
    made: list[str] = []
    texts: dict[str, str] = {}
    written = 0
    while written < budget:
        template = rng.choice(seeds)
        title, body = _article(rng, template, pools, budget - written)
        doc_id = f"syn{tag}_{len(made):05d}"
        day = 1 + len(made) % 28
        (target_dir / f"{doc_id}.md").write_text(
            f"---\ntitle: {title.replace(chr(10), ' ')}\ndate: 2025-01-{day:02d}\noutlet: rag bench (synthetic)\n---\n\n"
            f"{body}\n",
            encoding="utf-8",
        )
        made.append(doc_id)
        texts[doc_id] = _squash(body)
        written += len(body)
    return Corpus(
        directory=target_dir,
        scale=scale,
        seed_docs=copied,
        synthetic_docs=made,
        chars=(seed_chars if copied else 0) + written,
        texts=texts,
    )


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text))


def relevant_docs(corpus: Corpus, sources: list[str], evidence: list[str]) -> set[str]:
    """Gold doc ids present in the corpus, plus synthetic articles that contain a gold evidence quote."""
    present = set(corpus.seed_docs)
    relevant = {s for s in sources if s in present}
    quotes = [q for q in (_squash(e) for e in evidence) if len(q) >= 6]
    for doc_id, text in corpus.texts.items():
        if any(q in text for q in quotes):
            relevant.add(doc_id)
    return relevant
