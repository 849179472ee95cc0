"""bench/voice_turns.py speaks the question set it is told to (held-out ones are for the final
measurement only; tuning is done on the tuning sets)."""

from __future__ import annotations

from bench.voice_turns import single_questions
from tests.understanding.scoring import load


def test_questions_come_from_the_set_asked_for() -> None:
    for lang in ("en", "ko"):
        for name in ("tuning", "tuning2"):
            questions = single_questions(lang, name)
            conversations = {c["id"]: c for c in load(f"{name}_{lang}.yaml")}
            assert questions
            for q in questions:
                conversation = conversations[q["id"]]
                assert "single" in conversation["tags"] and not conversation.get("machines")
                assert q["say"] == conversation["turns"][0]["say"]
                assert not q.get("report")
