"""What a looping or cut reply leaves behind, tidied before the checks; a looping reply stopped early."""

from __future__ import annotations

from collections.abc import Iterator

from paperqa_local.answer import build_answer
from paperqa_local.evidence import Evidence
from paperqa_local.llms.backends import ChatBackend
from paperqa_local.llms.base import LLM, Message
from paperqa_local.prompts import load_prompts
from paperqa_local.reply_text import runaway, tidy_reply
from paperqa_local.settings import Settings

from fakes import context, embed

REFER = "ReferFormer achieves 55.6 J&F on Ref-Youtube-VOS with a ResNet-50 backbone."
OVF = "OVFormer achieves 21.9 mAP with a ResNet-50 backbone on LV-VIS, exceeding the previous best by 7.7."
CTX = [context(1, "refer", REFER), context(2, "ovf", OVF)]


def test_a_marker_loop_cut_by_the_token_limit_leaves_one_marker_and_no_half_marker() -> None:
    raw = "ReferFormer achieves 55.6 J&F on Ref-Youtube-VOS with a ResNet-50 backbone. " + "[1] " * 60 + "[1"
    answer = build_answer("What J&F does ReferFormer reach?", raw, CTX, embed, 0.45, truncated=True)
    assert answer.text == "ReferFormer achieves 55.6 J&F on Ref-Youtube-VOS with a ResNet-50 backbone [1]."
    assert answer.unsupported == []


def test_a_list_of_marker_led_lines_is_one_sentence_per_line_each_with_its_own_marker() -> None:
    raw = "[1] ReferFormer achieves 55.6 J&F with a ResNet-50 backbone\n[2] OVFormer achieves 21.9 mAP on LV-VIS"
    answer = build_answer("What do ReferFormer and OVFormer reach?", raw, CTX, embed, 0.45)
    assert answer.text == ("ReferFormer achieves 55.6 J&F with a ResNet-50 backbone [1]. "
                           "OVFormer achieves 21.9 mAP on LV-VIS [2].")
    assert [s.citations for s in answer.sentences] == [[1], [2]]


def test_bulleted_and_numbered_lists_lose_their_bullets_and_gain_full_stops() -> None:
    assert tidy_reply("- ReferFormer reaches 55.6 J&F [1]\n- OVFormer reaches 21.9 mAP [2]") == [
        "ReferFormer reaches 55.6 J&F [1].", "OVFormer reaches 21.9 mAP [2]."]
    assert tidy_reply("The two results:\n1. ReferFormer reaches 55.6 J&F.\n2) OVFormer reaches 21.9 mAP.") == [
        "The two results:", "ReferFormer reaches 55.6 J&F.", "OVFormer reaches 21.9 mAP."]


def test_a_sentence_said_again_under_another_marker_is_kept_once() -> None:
    raw = "\n".join(f"[{n}] SCoRe improves large language models on MATH by 9%." for n in range(1, 7))
    assert tidy_reply(raw) == ["[1] SCoRe improves large language models on MATH by 9%."]
    assert tidy_reply("Yes. Yes.") == ["Yes.", "Yes."]  # too short to be a loop


def test_a_reply_the_token_limit_cut_ends_its_last_sentence_visibly() -> None:
    raw = "ReferFormer achieves 55.6 J&F [1]. OVFormer achieves 21.9 mAP with a ResNet-50 backbone on"
    assert tidy_reply(raw, truncated=True)[-1].endswith("backbone on …")
    answer = build_answer("q", raw, CTX, embed, 0.45, truncated=True)
    assert answer.text.endswith("…") or "… [" in answer.text
    assert tidy_reply(raw) == ["ReferFormer achieves 55.6 J&F [1].", raw.split("[1]. ")[1]]  # not cut: as written
    assert tidy_reply("It reaches 66.7% [1]", truncated=True) == ["It reaches 66.7% [1]"]  # ended at a marker
    assert tidy_reply("It reaches 66.7%. [4", truncated=True) == ["It reaches 66.7%."]


def test_runaway_sees_a_loop_only_once_it_has_happened() -> None:
    assert runaway("ReferFormer achieves 55.6 J&F. [1] [1] [1]")
    assert not runaway("ReferFormer achieves 55.6 J&F. [1] [1]")
    assert not runaway("ReferFormer achieves 55.6 J&F [1][2][3].")  # three passages, not a loop
    two = "[1] SCoRe improves models on MATH by 9%.\n[2] SCoRe improves models on MATH by 9%."
    assert runaway(two)
    assert not runaway(two[:-12])  # the second is still being written
    assert not runaway("Yes. Yes.")


class _Looping(LLM):
    """Replies with one sentence, then a marker over and over: what the 1.5B model did on a held-out question."""

    name = model = "looping"

    def __init__(self) -> None:
        super().__init__()
        self.pieces = ["ReferFormer", " achieves", " 55.6", " J&F", "."] + [" [1]"] * 200
        self.sent = 0
        self.closed = False

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               stop: list[str] | None = None, grammar: str | None = None) -> Iterator[str]:
        try:
            for piece in self.pieces[:max_tokens]:
                self.sent += 1
                self.last_usage = {"prompt_tokens": 10, "completion_tokens": self.sent}
                yield piece
        finally:
            self.closed = True

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class _ScriptedBackend(ChatBackend):
    name = "scripted"

    def __init__(self, llm: LLM) -> None:
        super().__init__(Settings(), load_prompts(), embed)
        self._llm = llm

    @property
    def llm(self) -> LLM:
        return self._llm


def test_the_backend_stops_a_looping_reply_and_keeps_its_usage() -> None:
    llm = _Looping()
    backend = _ScriptedBackend(llm)
    reply = "".join(backend.answer("What J&F does ReferFormer reach?", Evidence(contexts=list(CTX))))
    assert reply == "ReferFormer achieves 55.6 J&F. [1] [1] [1]"
    assert llm.closed and llm.sent == 8  # stopped at the third marker, not at the token limit
    assert backend.usage == {"prompt_tokens": 10, "completion_tokens": 8}


def test_an_instruction_the_model_writes_back_is_not_part_of_the_answer() -> None:
    """The parts instruction echoed into the reply ("This question asks 2 things; answer each one, citing its
    passage: [1][2] …") leaves the answer; the sentence it was glued to stays, cited."""
    asked = "This question asks 2 things; answer each one, citing its passage: (1) What J&F? (2) What mAP?"
    raw = ("This question asks 2 things; answer each one, citing its passage: [1] ReferFormer achieves 55.6 J&F on "
           "Ref-Youtube-VOS with a ResNet-50 backbone. OVFormer achieves 21.9 mAP on LV-VIS [2].")
    answer = build_answer("What J&F does ReferFormer reach, and what mAP does OVFormer reach?", raw, CTX, embed, 0.45,
                          echoes=(asked,))
    assert "asks 2 things" not in answer.text
    assert answer.text.startswith("ReferFormer achieves 55.6 J&F on Ref-Youtube-VOS with a ResNet-50 backbone [1].")
    assert tidy_reply(asked + " Yes [1].", echoes=(asked,)) == ["Yes [1]."]
    # the parts' numbers the model copied from the instruction go too
    assert tidy_reply("(1) It reaches 55.6 J&F [1]. (2) It reaches 21.9 mAP [2].") == [
        "It reaches 55.6 J&F [1].", "It reaches 21.9 mAP [2]."]


def test_the_questions_parts_written_back_with_markers_are_not_part_of_the_answer() -> None:
    """After the lead of the parts instruction goes, the parts themselves stay when the model wrote them back
    with markers ("(1) In the paper that …, what mAP …? [1] (2) how far …? [1]"): a sentence that asks claims
    nothing, so it is dropped, and the answer is its one sentence (the trial's Q02)."""
    asked = ("This question asks 2 things; answer each one, citing its passage: (1) What mAP does the unsupervised "
             "AlexNet get? (2) how far is that below the supervised case?")
    raw = ("The unsupervised AlexNet reaches 54.4% mAP, only 2.4 points below the supervised case. This question asks "
           "2 things; answer each one, citing its passage: (1) What mAP does the unsupervised AlexNet get? [1] (2) how "
           "far is that below the supervised case? [1]")
    kept = [s for s in tidy_reply(raw, echoes=(asked,)) if s.strip(" .[]0123456789")]
    assert kept == ["The unsupervised AlexNet reaches 54.4% mAP, only 2.4 points below the supervised case."]
    assert tidy_reply("Is it faster? Yes, it is 2x faster [1].") == ["Yes, it is 2x faster [1]."]
