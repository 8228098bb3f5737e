"""Render ``Answer`` objects: answer text, source cards with the supporting sentence, other passages.

Article text is untrusted: it reaches the page only through ``md_escape`` (for
Markdown) or ``html.escape`` on every piece (for ``st.html``), so nothing in an
article can inject HTML, script, links, images or LaTeX; bare URLs in article
or model text stay plain text. The only link is an article's own source URL
(http(s) only), on its card. What it leaves out: asking questions, session state, layout.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import streamlit as st

from rag.dates import published_label
from rag.models import Answer, Citation, Evidence, Passage
from ui import news

# Markdown characters that could make links, images, HTML, LaTeX, code or tables.
_MD_SPECIAL = re.compile(r"([\\`\[\]<>$~|!])")
# GFM turns bare URLs, www. names and e-mail addresses into links after parsing, so escapes do
# not stop it; a word joiner (U+2060, invisible) between "https"/"www" and what follows, and
# before "@", does.
_AUTOLINK = re.compile(r"(?i)\b(?:https?|ftp)(?=://)|\bwww(?=\.)|(?=@)")

LABELS = {
    "en": {
        "sources": "Sources",
        "others": "Other retrieved passages (not cited)",
        "link": "original article",
        "extractive": "Offline extractive mode: the answer quotes sentences from the articles; no language model wrote it.",
        "incomplete": "The model stopped early; the answer may be cut short.",
        "refused": "Not answered from the articles",
        "unsupported": "Not supported by the cited sources (citation removed):",
    },
    "zh": {
        "sources": "来源",
        "others": "其他检索到的段落（未引用）",
        "link": "原文链接",
        "extractive": "离线摘录模式：答案摘录自文章原句，未使用语言模型生成。",
        "incomplete": "模型提前中断，答案可能不完整。",
        "refused": "文章中没有答案",
        "unsupported": "以下内容未得到所引来源支持（已移除引用）：",
    },
}


def md_escape(text: str) -> str:
    """Text for ``st.markdown``: special characters escaped, line breaks kept."""
    text = _AUTOLINK.sub(lambda m: m.group() + "\u2060", _MD_SPECIAL.sub(r"\\\1", text))
    return text.replace("\n", "  \n")


def safe_url(url: str | None) -> str | None:
    if url and re.match(r"^https?://[^\s<>\"']+$", url.strip(), re.I):
        return url.strip()
    return None


def _spans(passage: Passage, citations: Sequence[Citation]) -> list[tuple[int, int]]:
    """Valid, merged character spans of the cited sentences inside ``passage.text``."""
    text, spans = passage.text, []
    for c in citations:
        start, end = c.span
        if not (0 <= start < end <= len(text)) or text[start:end].strip() != c.quote.strip():
            found = text.find(c.quote.strip()) if c.quote.strip() else -1
            if found < 0:
                continue
            start, end = found, found + len(c.quote.strip())
        spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlighted_html(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` escaped, with each span wrapped in ``<mark>``."""
    out, pos = [], 0
    for s, e in spans:
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _meta_line(outlet: str | None, published: str | None, url: str | None, lang: str) -> str:
    parts = [html.escape(outlet) if outlet else None, html.escape(published_label(published, lang))]
    link = safe_url(url)
    if link:
        parts.append(
            f'<a href="{html.escape(link, quote=True)}" target="_blank" rel="noopener noreferrer">'
            f"{LABELS[lang]['link']} ↗</a>"
        )
    return " · ".join(p for p in parts if p)


def card_html(passage: Passage, citations: Sequence[Citation], lang: str) -> str:
    """One source card: [n] title, outlet · date · link, the passage with its cited sentence marked."""
    return (
        '<div class="source-card" style="border:1px solid rgba(128,128,128,.35);border-radius:.5rem;'
        'padding:.55rem .8rem;margin:.25rem 0 .5rem 0;">'
        f'<div style="font-weight:600">[{passage.n}] {html.escape(passage.title)}</div>'
        f'<div style="font-size:.82em;opacity:.75;margin-bottom:.35rem">'
        f"{_meta_line(passage.outlet, passage.published, passage.url, lang)}</div>"
        f'<div style="white-space:pre-wrap;font-size:.9em;line-height:1.55">'
        f"{highlighted_html(passage.text, _spans(passage, citations))}</div></div>"
    )


def source_cards(answer: Answer) -> None:
    lang = answer.language
    cited = answer.cited_passages
    if cited:
        st.markdown(f"**{LABELS[lang]['sources']}**")
        for p in sorted(cited, key=lambda p: p.n):
            st.html(card_html(p, [c for c in answer.citations if c.n == p.n], lang))
    cited_n = {p.n for p in cited}
    others = [p for p in answer.passages if p.n not in cited_n]
    if others:
        with st.expander(f"{LABELS[lang]['others']} · {len(others)}", expanded=False):
            for p in others:
                scores = f"fused {p.score:.4f}"
                if p.dense_score is not None:
                    scores += f" · dense {p.dense_score:.3f}"
                if p.keyword_score is not None:
                    scores += f" · keyword {p.keyword_score:.2f}"
                st.html(
                    f'<div style="margin:.2rem 0 .6rem 0"><div style="font-weight:600">[{p.n}] '
                    f"{html.escape(p.title)}</div>"
                    f'<div style="font-size:.8em;opacity:.7">{_meta_line(p.outlet, p.published, p.url, lang)}'
                    f" · {scores}</div>"
                    f'<div style="white-space:pre-wrap;font-size:.88em">{html.escape(p.text)}</div></div>'
                )


def evidence(ev: Evidence, lang: str) -> None:
    """The evidence, shown as source cards the moment retrieval is done, before any generated text."""
    if not ev.items:
        return
    st.markdown(f"**{LABELS[lang]['sources']}**")
    for p in ev.passages:
        quotes = [it for it in ev.items if it.n == p.n]
        if quotes:
            cites = [p.cite(it.sentence.text, (it.sentence.start, it.sentence.end)) for it in quotes]
            st.html(card_html(p, cites, lang))


def answer(ans: Answer) -> None:
    """The whole rendered answer: text (or refusal), notices, source cards, other passages."""
    lang = ans.language
    if ans.refused:
        st.warning(md_escape(ans.answer), icon=":material/block:")
        st.caption(LABELS[lang]["refused"])
    else:
        st.markdown(md_escape(ans.answer))
    if ans.incomplete:
        st.warning(LABELS[lang]["incomplete"], icon=":material/warning:")
    if ans.unsupported:
        st.warning(LABELS[lang]["unsupported"] + " " + " · ".join(f"“{md_escape(c)}”" for c in ans.unsupported),
                   icon=":material/help:")
    if ans.notice == "extractive":
        st.caption(LABELS[lang]["extractive"])
    elif ans.notice:
        st.caption(md_escape(ans.notice))
    news.conflicts_box(ans)  # "Sources disagree", side by side
    source_cards(ans)
    total = ans.timings_ms.get("total")
    if total is not None:
        st.caption(f"{md_escape(ans.model)} · {total / 1000:.2f} s")


def article_html(text: str) -> str:
    """A cleaned article body, escaped, paragraphs kept."""
    return f'<div style="white-space:pre-wrap;line-height:1.6">{html.escape(text)}</div>'
