"""What a site repeats at its texts' edges is its template; learned from texts, applied at the edges only."""

from __future__ import annotations

from pipelines.site_template import learn_template_lines
from pipelines.text_rules import clean_lines

PROSE = "同志们：今天我们召开全县工作会议，主要任务是总结去年工作，部署今年任务。"


def test_lines_most_texts_start_or_end_with_are_learned_sentences_only_when_they_name_the_site():
    texts = [f"范文网 精选范文\n{PROSE}第{n}条。\n谢谢大家！\n本文由范文网整理，转载请注明出处。" for n in range(30)]
    texts += [f"{PROSE}第{n}条。" for n in range(10)]
    learned = dict(learn_template_lines(texts, site_name="范文网"))
    assert learned == {"范文网 精选范文": 30, "本文由范文网整理，转载请注明出处。": 30}  # not "谢谢大家！"


def test_too_few_texts_teach_nothing():
    assert learn_template_lines(["范文网 精选范文\n" + PROSE] * 5) == []


def test_template_lines_go_at_the_edges_and_stay_inside():
    template = frozenset({"范文网 精选范文"})
    cleaned = clean_lines(["范文网 精选范文", PROSE, "范文网 精选范文", PROSE, "范文网 精选范文"],
                          site_name=None, template_lines=template)
    assert cleaned.lines == [PROSE, "范文网 精选范文", PROSE]
    assert [removal.reason for removal in cleaned.removed] == ["head:site_template", "tail:site_template"]
