"""Offline query translation (``rag.retrieval.translate``): CC-CEDICT senses and segmentation."""

from __future__ import annotations

from rag.retrieval import translate
from rag.retrieval.translate import english_to_chinese, segment


def test_segmentation_takes_the_reading_that_covers_more_of_the_question() -> None:
    assert segment("OpenAI是哪一年成立的？") == ["成立"]  # from the left: 年成 ("harvest"), and 成立 is lost
    assert segment("微软持有OpenAI多少股份？") == ["微软", "持有", "多少", "股份"]


def test_a_word_of_a_multi_word_sense_translates_after_the_one_word_senses() -> None:
    assert english_to_chinese("board", lambda w: w == "董事会") == ["董事会"]  # "board of directors"
    assert english_to_chinese("price", lambda w: w == "股价") == ["股价"]  # "share price"
    assert english_to_chinese("antitrust", lambda w: w == "反垄断") == ["反垄断"]  # "anti-trust legislation"


def test_a_hyphenated_word_translates_by_its_last_part_when_it_has_no_entry() -> None:
    assert english_to_chinese("co-founders", lambda w: w == "创始人") == ["创始人"]


def test_only_translations_the_articles_use_are_kept() -> None:
    assert english_to_chinese("salary", lambda w: False) == []


def test_a_noun_translates_by_its_verb_when_its_own_senses_are_not_in_the_articles() -> None:
    """"departure" is 发车/出港 in the dictionary; the articles write 离开 (depart; also the glossary's leaving)."""
    assert english_to_chinese("departure", lambda w: w == "离开") == ["离开"]
    assert english_to_chinese("rejection", lambda w: w == "拒绝") == ["拒绝"]
    assert english_to_chinese("donation", lambda w: w in ("捐款", "乐捐")) == ["捐款"]  # its own sense first
    assert english_to_chinese("donation", lambda w: w == "乐捐") == ["乐捐"]  # else the verb's ("donate")


def test_an_idiom_or_figure_of_speech_has_its_figurative_sense() -> None:
    lines = "\n".join([
        "殺手鐧 杀手锏 [sha1 shou3 jian3] /(fig.) trump card/",
        "分道揚鑣 分道扬镳 [fen1 dao4 yang2 biao1] /lit. to take different roads (idiom)/fig. to part ways/",
        "一石二鳥 一石二鸟 [yi1 shi2 er4 niao3] /to kill two birds with one stone (idiom); one action, two gains/",
        "開放 开放 [kai1 fang4] /to bloom/to open/",
    ])
    figurative = translate.parse(lines).figurative
    assert figurative == {"杀手锏": "trump card", "分道扬镳": "part ways", "一石二鸟": "kill two birds with one stone"}
    assert translate.figurative("杀手锏") == "trump card" and translate.figurative("开放") is None  # the shipped file
