"""Corpus page: the indexed articles, each readable in its cleaned form, and an uploader to add more.

Uploads go through ``ui.upload.add_uploads`` (validated, saved into the seeds
dir, ingested incrementally with a progress bar); results stay on screen until
the next upload. Article text is shown escaped. What it leaves out: cleaning,
chunking and indexing rules (``rag``), deleting articles (use the seeds dir and
``rag ingest``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rag.ingest.documents import MAX_FILE_BYTES, SUFFIXES, load_document
from rag.errors import InputError, RagError
from rag.redact import redact
from ui import render, resources
from ui.upload import add_uploads

s = resources.settings()
idx = resources.index(s)
docs = resources.documents(s, idx)

st.title("Corpus · 文章库")
st.caption(f"{len(docs)} articles · {idx.count()} passages · files in {s.seeds_dir}")
st.dataframe(
    [
        {
            "Title": d.title,
            "Outlet": d.outlet or "",
            "Date": d.published or "",
            "Language": d.language,
            "Chunks": d.chunks,
            "ID": d.doc_id,
        }
        for d in docs
    ],
    hide_index=True,
    width="stretch",
)

if docs:
    st.subheader("Read an article")
    by_id = {d.doc_id: d for d in docs}
    chosen = st.selectbox("Article", list(by_id), format_func=lambda i: by_id[i].title, key="read")
    info = by_id[chosen]
    try:
        doc = load_document(Path(info.source))
    except InputError as exc:
        st.warning(f"Cannot show this article: {render.md_escape(redact(str(exc)))}")
    else:
        meta = [doc.outlet, doc.author, doc.published, doc.language]
        st.caption(render.md_escape(" · ".join(m for m in meta if m)))
        url = render.safe_url(doc.url)
        if url:
            st.link_button("Original article", url, icon=":material/open_in_new:")
        with st.container(height=420):
            st.html(render.article_html(doc.text))

st.subheader("Add articles")
st.caption(
    f"{', '.join(sorted(SUFFIXES))} · up to {MAX_FILE_BYTES // 2**20} MB each. "
    "Files are checked first; a bad file is rejected with the reason and nothing indexed is lost."
)
n = st.session_state.setdefault("upload_round", 0)
files = st.file_uploader(
    "Article files",
    type=[x.lstrip(".") for x in sorted(SUFFIXES)],
    accept_multiple_files=True,
    max_upload_size=MAX_FILE_BYTES // 2**20,
    key=f"uploader-{n}",
)
replace = st.checkbox("Replace existing files with the same name", key="replace")
if files and st.button(f"Add {len(files)} file(s) to the index", type="primary", icon=":material/upload:"):
    bar = st.progress(0.0, text="Checking files…")

    def progress(done: int, total: int, name: str) -> None:
        bar.progress(done / max(total, 1), text=f"Indexing {name} ({done}/{total})")

    try:
        outcomes, report = add_uploads(
            [(f.name, f.getvalue()) for f in files], Path(s.seeds_dir), idx, replace=replace, progress=progress
        )
    except RagError as exc:
        st.session_state["upload_results"] = [(False, f"Nothing was added: {exc}")]
    else:
        if report is not None:
            resources.after_ingest()
        st.session_state["upload_results"] = [(o.ok, o.message) for o in outcomes]
    st.session_state["upload_round"] = n + 1  # a fresh, empty uploader
    st.rerun()

for ok, message in st.session_state.get("upload_results", []):
    (st.success if ok else st.error)(render.md_escape(redact(message)))
