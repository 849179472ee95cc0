"""The kiosk page in headless Chromium against real gateways (and real ASR/TTS units).

What a customer does: taps a quick question and hears the answer, speaks a question into the
microphone (Chromium's fake microphone playing a WAV made with espeak-ng), switches language,
and walks away (the attract loop). What the shop's network does: the gateway goes away and
comes back, and the page reconnects and carries on by itself, without a reload.
"""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest

from tests import audio
from tests.browser.conftest import KioskPage, free_port, open_kiosk

BROWSER_NOISE = (
    # What Chromium itself logs while the gateway is away: expected in the reconnect test.
    "WebSocket connection to",
    "net::ERR_CONNECTION_REFUSED",
)


# Sound only after a user gesture, as desktop browsers do by default.
NEEDS_A_TAP = """
(() => {
  const Real = window.AudioContext;
  window.AudioContext = class extends Real {
    constructor(options) { super(options); super.suspend(); }
    resume() {
      return navigator.userActivation.isActive ? super.resume() : Promise.resolve();
    }
  };
})();
"""


def text_of(kiosk: KioskPage, selector: str) -> str:
    return kiosk.page.locator(selector).inner_text().strip()


def test_quick_question_is_answered_spoken_and_interrupted(browser, voice_gateways):
    gateway = voice_gateways.start()
    # Like a desktop browser (headless Chromium lets sound start without a tap).
    kiosk = open_kiosk(browser(), f"{gateway.url}/?kiosk=front-1", init_script=NEEDS_A_TAP)
    assert kiosk.tapped  # the start screen asked for the one tap that switches sound on
    kiosk.wait("document.body.dataset.voiceOutput === 'yes'", 30)

    # The shop's own facts, from /kiosk.json and the welcome.
    assert text_of(kiosk, "#shop-name") == "Bubbles & Suds Laundromat"
    assert "never recorded" in text_of(kiosk, "#privacy")
    buttons = kiosk.page.locator("#quick button").all_inner_texts()
    assert buttons[:2] == ["How much is a wash?", "Which machines are free?"]
    assert "Call staff" in buttons
    assert kiosk.page.locator("#langs button").all_inner_texts() == ["English", "한국어"]
    # English is heard out of the box (pocketsphinx, its model inside its wheel): no notice,
    # the microphone is there to tap.
    kiosk.wait("document.body.dataset.voiceInput === 'yes'", 30)
    assert text_of(kiosk, "#notice") == ""
    assert not kiosk.page.locator("#mic").is_disabled()

    kiosk.page.locator("#quick button", has_text="How much is a wash?").click()
    kiosk.wait("document.getElementById('bubble').dataset.intent === 'prices'")
    assert "$3.50" in text_of(kiosk, "#reply")
    assert "How much is a wash?" in text_of(kiosk, "#heard")
    # Its audio is played through Web Audio as it arrives, and moves the mouth.
    kiosk.wait("window.kiosk.stats.audioChunksPlayed >= 4", 30)
    kiosk.wait("window.kiosk.character.maxOpen > 0.3")
    kiosk.screenshot("kiosk-speaking-1920x1080.png")
    kiosk.wait("document.body.dataset.speaking === 'no'", 30)
    stats = kiosk.js("window.kiosk.stats")
    assert stats["audioSecondsPlayed"] > 2
    assert stats["audioChunksDropped"] == 0
    assert stats["audioChunksPlayed"] == stats["audioChunksScheduled"]

    # A tap on the attendant while it speaks stops the reply at once.
    kiosk.page.locator("#quick button", has_text="How do I use the washer?").click()
    kiosk.wait(f"window.kiosk.stats.audioChunksPlayed >= {stats['audioChunksPlayed'] + 2}", 30)
    kiosk.page.locator("#bot").click()
    kiosk.wait("window.kiosk.stats.interrupts === 1 && document.body.dataset.speaking === 'no'")
    played = kiosk.js("window.kiosk.stats.audioChunksPlayed")
    time.sleep(1.0)
    assert kiosk.js("window.kiosk.stats.audioChunksPlayed") == played
    assert kiosk.js("window.kiosk.audio.player.playing") is False

    assert kiosk.console_errors() == []


def write_wav(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.RATE)
        out.writeframes(pcm)
    return path


def test_spoken_question_through_the_fake_microphone(browser, voice_gateways, tmp_path):
    # espeak-ng speaks at full scale; a real microphone hears a customer well below it (and at
    # full scale the browser's automatic gain control clips it): -12 dB.
    speech = np.frombuffer(audio.espeak("건조기 얼마예요"), dtype=np.int16).astype(np.float32)
    speech *= 10 ** (-12 / 20) * 32767 / max(1.0, float(np.abs(speech).max()))
    pcm = audio.silence(1.0) + speech.astype(np.int16).tobytes() + audio.silence(2.0)
    wav = write_wav(tmp_path / "question.wav", pcm)
    chromium = browser(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )
    gateway = voice_gateways.start()
    kiosk = open_kiosk(chromium, f"{gateway.url}/?kiosk=front-2&lang=ko")
    kiosk.wait("document.body.dataset.voiceInput === 'yes'", 30)
    # No Korean voice installed: answers are shown as text, and the page says so.
    assert text_of(kiosk, "#notice") == "답변은 화면에 글로 보여 드려요."

    # Tap the microphone: the page streams 16 kHz frames until the gateway hears the end.
    kiosk.page.locator("#mic").click()
    kiosk.wait("document.body.dataset.mic === 'listening'")
    kiosk.wait("window.kiosk.stats.repliesShown >= 1", 30)
    stats = kiosk.js("window.kiosk.stats")
    heard = stats["lastTranscript"]
    print(f"\nheard {heard['text']!r} -> {stats['lastReply']['intent']}")
    assert heard["final"] is True and heard["why"] == "end-of-speech"
    assert stats["lastReply"]["intent"] == "prices"
    assert "건조" in text_of(kiosk, "#reply")
    assert heard["text"] in text_of(kiosk, "#heard")
    assert stats["framesSent"] >= 20 and stats["utterances"] == 1
    assert kiosk.js("document.body.dataset.mic") == "off"
    kiosk.screenshot("kiosk-spoken-ko-1920x1080.png")

    # Hands-free: the page's own speech detector opens the next question by itself (the fake
    # microphone plays the file in a loop).
    kiosk.page.locator("#handsfree-label").click()
    kiosk.wait("window.kiosk.stats.utterances >= 2", 20)
    kiosk.wait("window.kiosk.stats.repliesShown >= 2", 30)
    kiosk.page.locator("#handsfree-label").click()  # and off again
    stats = kiosk.js("window.kiosk.stats")
    print(f"hands-free heard {stats['lastTranscript']['text']!r} -> {stats['lastReply']['intent']}")
    assert stats["lastReply"]["intent"] == "prices"

    assert kiosk.console_errors() == []


def test_gateway_restart_reconnects_and_resumes_without_reload(browser, gateways):
    port = free_port()
    gateway = gateways.start(port)
    # offline=4: the offline screen after 4 s away instead of 10, to keep the test short.
    kiosk = open_kiosk(browser(), f"http://127.0.0.1:{port}/?kiosk=front-3&offline=4")
    kiosk.js("window.notReloaded = true")
    kiosk.page.locator("#question").fill("how much is a wash")
    kiosk.page.locator("#send").click()
    kiosk.wait("window.kiosk.stats.repliesShown === 1")

    gateway.stop()
    kiosk.wait("document.body.dataset.conn === 'reconnecting'", 10)
    assert text_of(kiosk, "#conn-text") == "Reconnecting…"
    kiosk.screenshot("kiosk-reconnecting.png")
    # Asking now gets a calm word, not an error.
    kiosk.page.locator("#question").fill("which machines are free")
    kiosk.page.locator("#send").click()
    assert "Reconnecting" in text_of(kiosk, "#reply")

    # Still away: the offline screen with the staff phone kept from /kiosk.json.
    kiosk.wait("document.body.dataset.conn === 'offline'", 15)
    assert kiosk.page.locator("#offline").is_visible()
    info = kiosk.js("window.kiosk.state.info.languages.en")
    assert text_of(kiosk, "#offline-phone-number") == info["staff_phone"]
    assert info["staff_phone"]
    time.sleep(0.8)  # the screen fades in
    kiosk.screenshot("kiosk-offline.png")
    retries = kiosk.js("window.kiosk.connection.stats.retries")
    assert retries >= 2  # it keeps trying (1 s, 2 s, ... with jitter)

    # The gateway is back on the same port: the page finds it by itself.
    gateways.start(port)
    kiosk.wait("document.body.dataset.conn === 'online'", 40)
    assert not kiosk.page.locator("#offline").is_visible()
    assert kiosk.js("window.notReloaded") is True
    conn = kiosk.js("window.kiosk.connection.stats")
    assert conn["welcomes"] == 2
    kiosk.page.locator("#quick button", has_text="Which machines are free?").click()
    kiosk.wait("window.kiosk.stats.repliesShown === 2")
    assert kiosk.js("window.kiosk.stats.lastReply.intent") != ""

    assert kiosk.console_errors(allow=BROWSER_NOISE) == []


def test_a_hung_gateway_peer_hands_the_conversation_to_the_other(browser, gateways):
    """Two peers on one socket: the one serving the page hangs (SIGSTOP); the page notices,
    reconnects at once, lands on the other, resumes and asks its follow-up again."""
    import os
    import signal

    import psutil

    peers = gateways.start_peers()
    port = peers[0].port
    kiosk = open_kiosk(browser(), f"http://127.0.0.1:{port}/?kiosk=front-4")
    kiosk.page.locator("#question").fill("how much is the giant washer")
    kiosk.page.locator("#send").click()
    kiosk.wait("window.kiosk.stats.repliesShown === 1")

    def holds_the_page(gateway) -> bool:
        conns = psutil.Process(gateway.proc.pid).net_connections("tcp")
        return any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in conns)

    serving = [gw for gw in peers if holds_the_page(gw)]
    assert len(serving) == 1, "the page's WebSocket is on one peer"
    os.kill(serving[0].proc.pid, signal.SIGSTOP)
    asked = time.monotonic()
    kiosk.page.locator("#question").fill("and how long does it take")
    kiosk.page.locator("#send").click()
    kiosk.wait("window.kiosk.stats.repliesShown === 2", 10)
    took = time.monotonic() - asked
    print(f"\n[browser] follow-up answered by the other peer {took:.2f} s after it was asked")
    conn = kiosk.js("window.kiosk.connection.stats")
    assert conn["failovers"] == 1 and conn["reasked"] == 1 and conn["resumed"] == 1, conn
    # The conversation went with it: the time asked is the giant washer's.
    assert "giant" in kiosk.js("window.kiosk.stats.lastReply.text").lower()
    assert took < 2.5
    assert kiosk.console_errors(allow=BROWSER_NOISE) == []


def test_language_switch_attract_loop_and_text_only_mode(browser, gateways):
    gateway = gateways.start()
    kiosk = open_kiosk(
        browser(), f"{gateway.url}/?kiosk=front-4&attract=3", width=1080, height=1920
    )
    # This gateway has no voice units: the page says plainly that it is text only.
    assert "please type" in text_of(kiosk, "#notice")
    assert kiosk.page.locator("#mic").is_disabled()
    assert kiosk.page.locator("#handsfree").is_disabled()

    # Switch to Korean: a new hello on a fresh connection resumes the same session.
    session = kiosk.js("window.kiosk.connection.session")
    kiosk.page.locator("#langs button", has_text="한국어").click()
    kiosk.wait("window.kiosk.connection.stats.welcomes === 2 && window.kiosk.state.lang === 'ko'")
    assert kiosk.js("window.kiosk.connection.session") == session
    assert kiosk.js("window.kiosk.connection.stats.resumed") == 1
    assert kiosk.js("document.documentElement.lang") == "ko"
    assert kiosk.page.locator("#quick button").first.inner_text() == "세탁 한 번에 얼마예요?"
    assert text_of(kiosk, "#shop-name") == "버블앤서즈 빨래방"
    kiosk.page.locator("#question").fill("세탁 한 번에 얼마예요?")
    kiosk.page.locator("#question").press("Enter")
    kiosk.wait("document.getElementById('bubble').dataset.intent === 'prices'")
    assert "3달러 50센트" in text_of(kiosk, "#reply")
    kiosk.screenshot("kiosk-ko-1080x1920.png")

    # Nobody there for a while: the attract loop, in the shop's language, with a new session
    # for the next customer and the last question gone from the screen.
    kiosk.wait("document.body.dataset.idle === 'yes'", 15)
    kiosk.wait("window.kiosk.connection.stats.welcomes === 3 && window.kiosk.state.lang === 'en'")
    assert kiosk.js("window.kiosk.connection.session") != session
    assert text_of(kiosk, "#heard") == ""
    kiosk.wait("document.getElementById('reply').classList.contains('attract')")
    kiosk.screenshot("kiosk-attract-1080x1920.png")
    # A touch brings the page back.
    kiosk.page.locator("#bubble").click()
    kiosk.wait("document.body.dataset.idle === 'no'")
    assert text_of(kiosk, "#reply") == "Hi! Tap a question, or just ask me."

    assert kiosk.console_errors() == []


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)])
def test_layout_fits_the_screen(browser, gateways, size):
    """Nothing spills off a landscape or portrait kiosk screen, and the text is large."""
    gateway = gateways.start()
    width, height = size
    kiosk = open_kiosk(browser(), f"{gateway.url}/", width=width, height=height)
    overflow = kiosk.js(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
        " ...[...document.querySelectorAll('#app button, #bubble, #question')].map(e => {"
        "   const r = e.getBoundingClientRect(); return r.right > innerWidth + 1 ||"
        "   r.bottom > innerHeight + 1 ? e.id || e.textContent : ''}).filter(Boolean)]"
    )
    assert overflow == [width, height], overflow
    sizes = kiosk.js(
        "['#reply', '#quick button', '#mic'].map(s =>"
        " parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"
    )
    # Readable from two metres: answers ~45 px and more on a 1080 px short side.
    assert sizes[0] >= 40 and sizes[1] >= 30 and sizes[2] >= 30, sizes
    assert kiosk.console_errors() == []


def test_reconnect_backoff_schedule(browser, gateways):
    """1 s doubling to a 30 s cap, with ±20 % jitter, for ever."""
    gateway = gateways.start()
    kiosk = open_kiosk(browser(), f"{gateway.url}/")
    delays = kiosk.js(
        "import('./connection.js').then(m => [0.5, 0, 0.999999].map(r =>"
        " [0, 1, 2, 3, 4, 5, 6, 20].map(n => m.backoffDelay(n, () => r))))"
    )
    assert delays[0] == [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    assert delays[1] == [800, 1600, 3200, 6400, 12800, 24000, 24000, 24000]
    assert delays[2] == [1200, 2400, 4800, 9600, 19200, 36000, 36000, 36000]
