"""Loading and cleaning the real seed articles: metadata lifted, boilerplate gone, repeats dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.documents import clean, decode, load_document
from rag.errors import InputError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def doc(stem: str):
    return load_document(SEEDS / f"{stem}.txt")


def test_ft_front_matter_metadata_and_bilingual_body() -> None:
    d = doc("000_9e7b033fb22a2303")
    assert d.title.startswith("Meta 和伊隆·马斯克的xAI")
    assert d.published == "2024-05-24"
    assert d.url == "https://ft.com/content/5cf24fdd-30ed-44ec-afe3-aefa6f4ad90e"
    assert d.outlet == "Financial Times"
    assert "问题1：" in d.text and "Q1: What are the potential benefits" in d.text
    assert "[Source Link]" not in d.text and "tag:" not in d.text and "---" not in d.text
    assert d.title not in d.text  # the repeated title line is dropped


def test_wechat_images_cover_and_follow_prompts_removed() -> None:
    d = doc("001_43a1417fc8ec1a8e")
    assert d.title == "埃隆·马斯克分享X.ai 、推特、特斯拉之间的关系及解读"
    assert d.published == "2023-06-05" and d.url.startswith("http://mp.weixin.qq.com/")
    assert "匡萃彪" in (d.author or "")
    for junk in ("mmbiz", "封面图", "扫码加入读者群", "关注我", "标星", "和作者及时互动", "END", "![]"):
        assert junk not in d.text, junk
    assert "X.ai可以提供人才。" in d.text
    assert "**" not in d.text


def test_jiemian_repeated_body_ingested_once_and_widgets_removed() -> None:
    d = doc("002_cf0a488ea6d0060a")
    assert d.title == "OpenAI撕下马斯克的“画皮”?"
    assert d.outlet == "界面新闻"
    assert d.text.count("奥特曼终于回应了马斯克。") == 1
    assert d.text.count("好戏还在上演。") == 1
    for junk in ("扫一扫下载", "正在阅读", "本文为转载内容", "Anthropic再获亚马逊", "暂无评论", "微信公众号"):
        assert junk not in d.text, junk


def test_repeated_body_without_end_marker_is_dropped() -> None:
    body = "第一段内容很长很长很长很长。\n01\n第二段内容也很长很长很长。\n"
    fields = clean("标题\n" + body + body, fallback_title="x")
    assert fields["text"].count("第一段内容") == 1
    assert fields["text"].count("01") == 1


def test_okex_share_widgets_disclaimer_and_ads_removed() -> None:
    d = doc("003_45c7622f861a0cf2")
    assert d.title == "微软与 OpenAI 合作的另一面:内斗、争夺客户……"
    assert d.published == "2023-06-17" and d.outlet == "OKEx学院"
    for junk in ("复制成功", "分享至", "主页 >", "免责声明", "OKEx全球社群", "扫码加入OKEx社群", "相关推荐", "industry-frontier"):
        assert junk not in d.text, junk
    assert d.title not in d.text  # image-caption repeats of the title are gone
    assert "微软只占股 49%" in d.text


def test_crypto_price_headlines_and_exchange_table_removed() -> None:
    d = doc("004_8dfb9935f69a8e59")
    assert d.outlet == "金色财经" and "Aaron Wood" in (d.author or "")
    for junk in ("以太坊价格分析", "BTC", "成交额", "¥1.52万亿", "| ", "交易所", "币种"):
        assert junk not in d.text, junk
    assert d.text.endswith("这场围绕人工智能控制权的较量将继续影响整个行业的未来走向。")


@pytest.mark.parametrize("stem", [p.stem for p in sorted(SEEDS.glob("*.txt"))])
def test_every_seed_has_title_language_and_clean_text(stem: str) -> None:
    d = doc(stem)
    assert d.doc_id == stem and d.title and d.language in ("en", "zh")
    assert "![" not in d.text and "](http" not in d.text


def test_gbk_is_decoded_and_binary_rejected() -> None:
    assert decode("马斯克离开了OpenAI。".encode("gbk"), "a.txt") == "马斯克离开了OpenAI。"
    with pytest.raises(InputError, match="binary"):
        decode(b"\x00\x01\x02PNG", "a.txt")
    with pytest.raises(InputError, match="empty"):
        decode(b"  \n", "a.txt")


def test_html_scripts_are_not_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>A title</title><script>alert('x')</script></head>"
        "<body><p>Musk left the board of OpenAI in 2018 after a conflict.</p></body></html>"
    )
    d = load_document(page)
    assert d.title == "A title" and "alert" not in d.text and "Musk left the board" in d.text
