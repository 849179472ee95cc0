"""The kiosk page's on-screen keyboard and machine board, in headless Chromium against a real
gateway: a customer with no physical keyboard taps a question key by key (in English, and in
Korean jamo by jamo), and looks at the board of machines, or taps one to ask about it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.browser.conftest import Gateway, Gateways, KioskPage, open_kiosk

SIZES = [(1920, 1080), (1080, 1920)]


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def text_of(kiosk: KioskPage, selector: str) -> str:
    return kiosk.page.locator(selector).inner_text().strip()


def rect(kiosk: KioskPage, selector: str) -> dict[str, float]:
    return kiosk.js(
        f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
        ".getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right,"
        " bottom: r.bottom, width: r.width, height: r.height}; })()"
    )


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


def tap_keys(kiosk: KioskPage, text: str) -> None:
    """Tap the on-screen keys for ``text``, one by one (" " is the space bar)."""
    for char in text:
        if char == " ":
            kiosk.page.locator("#keyboard .key-space").click()
        else:
            kiosk.page.locator(f'#keyboard .key[data-key="{char}"]').click()


def assert_fits(kiosk: KioskPage, selector: str) -> None:
    """Every element matching ``selector`` is inside the window."""
    spilled = kiosk.js(
        f"[...document.querySelectorAll({json.dumps(selector)})].filter(e => {{"
        " const r = e.getBoundingClientRect(); return r.width > 0 && (r.left < -1 ||"
        " r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1)})"
        ".map(e => e.dataset.key || e.dataset.action || e.dataset.number || e.id)"
    )
    assert spilled == [], spilled


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_on_screen_keyboard_types_english_and_korean(browser, gateways, size):
    gateway = gateways.start()
    width, height = size
    kiosk = open_kiosk(browser(), f"{gateway.url}/?kiosk=kb-{width}", width=width, height=height)
    page = kiosk.page
    assert not page.locator("#keyboard").is_visible()

    # A tap on the question field opens the keyboard; its keys are big enough for a finger.
    page.locator("#question").click()
    assert page.locator("#keyboard").is_visible()
    assert kiosk.js("document.body.dataset.keyboard") == "open"
    keys = kiosk.js(
        "[...document.querySelectorAll('#keyboard .key')].map(k => {"
        " const r = k.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert len(keys) == 43  # digits, three rows of ten, close, space, send
    assert min(w for w, _ in keys) >= 64 and min(h for _, h in keys) >= 64, keys
    assert_fits(kiosk, "#keyboard .key, #question, #send")
    # The answer stays in sight above or beside the keyboard.
    assert not overlaps(rect(kiosk, "#bubble"), rect(kiosk, "#keyboard"))
    assert_fits(kiosk, "#bubble")
    assert page.locator("#reply").is_visible()

    tap_keys(kiosk, "how much is a wash")
    assert page.locator("#question").input_value() == "how much is a wash"
    page.locator("#keyboard .key-backspace").click()
    tap_keys(kiosk, "h")
    kiosk.screenshot(f"keyboard-en-{size_id(size)}.png")
    page.locator("#keyboard .key-send").click()
    kiosk.wait("document.getElementById('bubble').dataset.intent === 'prices'")
    assert "$3.50" in text_of(kiosk, "#reply")
    assert "how much is a wash" in text_of(kiosk, "#heard")
    # Sent: the keyboard closes and the field is empty for the next question.
    assert not page.locator("#keyboard").is_visible()
    assert page.locator("#question").input_value() == ""
    assert not overlaps(rect(kiosk, "#bubble"), rect(kiosk, "#controls"))

    # Korean: the 2-set layout with the page's language, composed as it is typed.
    page.locator("#langs button", has_text="한국어").click()
    kiosk.wait("window.kiosk.state.lang === 'ko' && window.kiosk.state.conn === 'online'")
    page.locator("#kb-toggle").click()
    assert page.locator("#keyboard").is_visible()
    assert kiosk.js("document.getElementById('keyboard').dataset.layout") == "ko"
    assert page.locator('#keyboard .key[data-key="ㅂ"]').is_visible()
    assert page.locator('#keyboard .key[data-key="q"]').count() == 0
    tap_keys(kiosk, "ㅅㅔㅌㅏㄱㄱㅣ ㅇㅓㄹㅁ")
    assert page.locator("#question").input_value() == "세탁기 얾"  # ㄹㅁ: one final, ㄻ
    tap_keys(kiosk, "ㅏ")
    assert page.locator("#question").input_value() == "세탁기 얼마"  # ㅁ moved on
    # Backspace takes back one jamo at a time; shift types the double consonants.
    page.locator("#keyboard .key-backspace").click()
    assert page.locator("#question").input_value() == "세탁기 얼ㅁ"
    tap_keys(kiosk, "ㅏ")
    page.locator("#keyboard .key-shift").click()
    assert page.locator('#keyboard .key[data-key="ㄱ"]').inner_text() == "ㄲ"
    page.locator('#keyboard .key[data-key="ㄱ"]').click()
    assert page.locator("#question").input_value() == "세탁기 얼맊"  # ㄲ: a final too
    page.locator("#keyboard .key-backspace").click()
    assert page.locator('#keyboard .key[data-key="ㄱ"]').inner_text() == "ㄱ"  # one-shot
    assert page.locator("#question").input_value() == "세탁기 얼마"
    kiosk.screenshot(f"keyboard-ko-{size_id(size)}.png")
    page.locator("#keyboard .key-send").click()
    kiosk.wait("document.getElementById('bubble').dataset.intent === 'prices'")
    kiosk.wait("window.kiosk.stats.repliesShown === 2")
    assert "달러" in text_of(kiosk, "#reply")
    assert "세탁기 얼마" in text_of(kiosk, "#heard")
    assert not page.locator("#keyboard").is_visible()

    # The close key closes it without sending.
    page.locator("#question").click()
    tap_keys(kiosk, "ㄱ")
    page.locator("#keyboard .key-close").click()
    assert not page.locator("#keyboard").is_visible()
    assert page.locator("#question").input_value() == "ㄱ"
    assert kiosk.js("window.kiosk.stats.repliesShown") == 2
    assert kiosk.console_errors() == []


def machines_message(now: float) -> dict[str, object]:
    """What the gateway pushes: every state the board knows, on the shop's 16 machines."""
    states: dict[int, tuple[str, float | None]] = {
        1: ("free", None),
        2: ("busy", 12),
        3: ("busy", 0),  # its minutes ran out: finishing
        4: ("busy", 25),
        5: ("out-of-order", None),
        6: ("free", None),
        7: ("unknown", None),
        8: ("busy", None),  # running, minutes not known
        9: ("free", None),
        10: ("busy", 3),
        11: ("free", None),
        12: ("out-of-order", None),
        13: ("busy", 31),
        14: ("unknown", None),
        15: ("free", None),
        16: ("busy", 1),
    }
    sizes = {
        1: "regular", 2: "regular", 3: "regular", 4: "regular", 5: "large", 6: "large",
        7: "giant", 8: "giant",
    }  # fmt: skip
    return {
        "type": "machines",
        "machines": [
            {
                "number": n,
                "kind": "washer" if n <= 8 else "dryer",
                "size": sizes.get(n, "standard" if n <= 12 else "big"),
                "state": state,
                "minutes_left": minutes,
                "source": "mqtt",
                "updated": now - 60,
            }
            for n, (state, minutes) in states.items()
        ],
    }


def set_machine(gateways: Gateways, gateway: Gateway, *args: str) -> None:
    """`laundrybot machines set ...` on the gateway's spool, as staff would (what it answers)."""
    config = gateways.folder / f"gateway-{gateway.port}-text.yaml"
    command = [sys.executable, "-m", "laundrybot", "machines", "set", *args]
    subprocess.run([*command, "--config", str(config)], check=True, capture_output=True)


def inject(kiosk: KioskPage, message: dict[str, object]) -> None:
    """Hand a message to the page's own handler, as if the gateway had sent it."""
    kiosk.js(f"import('./messages.js').then(m => m.handleMessage({json.dumps(message)}))")


def tile(kiosk: KioskPage, number: int) -> dict[str, str]:
    return kiosk.js(
        f"(() => {{ const e = document.querySelector('#board .machine[data-number=\"{number}\"]');"
        " return {state: e.dataset.state, text: e.innerText.replace(/\\s+/g, ' ').trim(),"
        " label: e.getAttribute('aria-label'), icon: e.querySelector('.state-icon')"
        " .innerHTML}; })()"
    )


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_machine_board_shows_states_and_asks_about_a_machine(browser, gateways, size):
    # Every state at once (incl. unknown and finishing), handed to the page's own handler.
    gateway = gateways.start()
    width, height = size
    kiosk = open_kiosk(browser(), f"{gateway.url}/?kiosk=board-{width}", width=width, height=height)
    page = kiosk.page

    # kiosk.json's list, then the gateway's first push: every machine "no status".
    kiosk.wait("document.querySelectorAll('#board .machine').length === 16")
    kiosk.wait("document.getElementById('board').dataset.live === 'yes'")
    assert tile(kiosk, 4)["state"] == "unknown"
    assert "No status" in tile(kiosk, 4)["text"]

    inject(kiosk, machines_message(time.time()))
    kiosk.wait("document.getElementById('board').dataset.live === 'yes'")
    assert text_of(kiosk, "#board-title") == "Machines now"
    headings = page.locator("#board h3").all_inner_texts()
    assert [h.split()[0] for h in headings] == ["Washers", "Dryers"]
    assert "2 free" in headings[0] and "3 free" in headings[1]

    expected = {
        1: ("free", "Free"),
        2: ("busy", "12 min left"),
        3: ("finishing", "Finishing"),
        5: ("out-of-order", "Out of order"),
        7: ("unknown", "No status"),
        8: ("busy", "In use"),
        16: ("busy", "1 min left"),
    }
    icons = {}
    for number, (state, words) in expected.items():
        found = tile(kiosk, number)
        assert found["state"] == state, (number, found)
        assert words in found["text"], (number, found)
        assert words in found["label"]
        icons[state] = found["icon"]
    # Colour-blind safe: every state has its own picture as well as its words.
    assert len(set(icons.values())) == len(icons) == 5
    assert "Washer 4" in tile(kiosk, 4)["label"] and "regular" in tile(kiosk, 4)["label"]
    assert "7" in tile(kiosk, 7)["text"] and "Giant" in tile(kiosk, 7)["text"]

    kiosk.screenshot(f"board-en-{size_id(size)}.png")

    # Large and all on the screen, without scrolling the board.
    assert_fits(kiosk, "#board, #board .machine, #bubble, #controls button")
    numbers = kiosk.js(
        "[...document.querySelectorAll('#board .m-number')].map(e =>"
        " parseFloat(getComputedStyle(e).fontSize))"
    )
    assert min(numbers) >= 40, numbers
    smallest = kiosk.js(
        "Math.min(...[...document.querySelectorAll('#board .machine')].map(e => {"
        " const r = e.getBoundingClientRect(); return Math.min(r.width, r.height); }))"
    )
    assert smallest >= 100, smallest
    board = rect(kiosk, "#board")
    assert not overlaps(board, rect(kiosk, "#bot")) and not overlaps(board, rect(kiosk, "#bubble"))
    assert kiosk.js("(b => b.scrollHeight <= b.clientHeight + 1)(document.getElementById('board'))")

    # Minutes count down between messages; run out and the machine is finishing.
    later = kiosk.js(
        "import('./board.js').then(m => [m.shownState({state: 'busy', minutes_left: 12},"
        " Date.now() + 5 * 60000), m.shownState({state: 'busy', minutes_left: 12},"
        " Date.now() + 13 * 60000), m.shownState({state: 'broken'})])"
    )
    assert later == [
        {"state": "busy", "minutes": 7},
        {"state": "finishing", "minutes": None},
        {"state": "unknown", "minutes": None},
    ]

    # A tap on a machine asks about it, in the page's language. (The gateway answers from its
    # own machine status: given the same states as the board here.)
    set_machine(gateways, gateway, "4", "busy", "--minutes", "25")
    for free in ("1", "6", "9"):
        set_machine(gateways, gateway, free, "free")
    # The gateway pushes its own (fewer) states on the change (machine 2 unknown, 4 busy):
    # wait for it, then show every state again.
    two = "document.querySelector('#board .machine[data-number=\"2\"]').dataset.state"
    kiosk.wait(f"{two} === 'unknown'")
    inject(kiosk, machines_message(time.time()))
    kiosk.wait(f"{two} === 'busy'")
    page.locator('#board .machine[data-number="4"]').click()
    kiosk.wait("document.getElementById('bubble').dataset.intent === 'machine-status'")
    assert "is washer 4 free?" in text_of(kiosk, "#heard")
    assert "washer 4 is in use" in text_of(kiosk, "#reply").lower()
    if size == (1920, 1080):
        kiosk.screenshot("kiosk-readme.png", scale=2 / 3)  # tests/browser/kiosk.png, in the README

    page.locator("#langs button", has_text="한국어").click()
    kiosk.wait("window.kiosk.state.lang === 'ko' && window.kiosk.state.conn === 'online'")
    # The new hello gets the gateway's own board (machine 2 unknown); then every state again.
    kiosk.wait(f"{two} === 'unknown'")
    inject(kiosk, machines_message(time.time()))
    kiosk.wait(f"{two} === 'busy'")
    assert text_of(kiosk, "#board-title") == "지금 기계 상태"
    assert page.locator("#board h3").all_inner_texts()[0].startswith("세탁기")
    assert "12분 남음" in tile(kiosk, 2)["text"]
    assert "고장" in tile(kiosk, 5)["text"] and "곧 끝나요" in tile(kiosk, 3)["text"]
    assert "특대형" in tile(kiosk, 7)["text"]
    assert_fits(kiosk, "#board, #board .machine")
    kiosk.screenshot(f"board-ko-{size_id(size)}.png")
    page.locator('#board .machine[data-number="9"]').click()
    kiosk.wait("window.kiosk.stats.repliesShown === 2")
    assert "9번 건조기 비어 있어요?" in text_of(kiosk, "#heard")
    assert kiosk.js("document.getElementById('bubble').dataset.intent") == "machine-status"
    assert "9번 건조기" in text_of(kiosk, "#reply") and "비어 있어요" in text_of(kiosk, "#reply")

    # The next message replaces the states.
    message = machines_message(time.time())
    for machine in message["machines"]:  # type: ignore[attr-defined]
        machine["state"], machine["minutes_left"] = "free", None
    inject(kiosk, message)
    kiosk.wait("document.querySelectorAll('#board .machine[data-state=\"free\"]').length === 16")
    assert kiosk.console_errors() == []


def test_board_updates_from_the_machines_message(browser, gateways):
    """The board follows the gateway's own `machines` pushes: staff (or the machines unit, or
    the payment system's API) write a state into the spool, the gateway sees the commit and
    pushes the new board to every kiosk, and the page shows it."""
    gateway = gateways.start()
    kiosk = open_kiosk(browser(), f"{gateway.url}/?kiosk=board-live")
    kiosk.wait("document.querySelectorAll('#board .machine').length === 16")
    # The gateway's first push, right after welcome: nothing known yet.
    kiosk.wait("document.getElementById('board').dataset.live === 'yes'")
    assert (
        kiosk.js("document.querySelectorAll('#board .machine[data-state=\"unknown\"]').length")
        == 16
    )

    set_machine(gateways, gateway, "3", "busy", "--minutes", "20")
    set_machine(gateways, gateway, "12", "out-of-order")
    set_machine(gateways, gateway, "9", "free")
    kiosk.wait(
        "document.querySelector('#board .machine[data-number=\"9\"]').dataset.state === 'free'"
    )
    assert "20 min left" in tile(kiosk, 3)["text"]
    assert tile(kiosk, 12)["state"] == "out-of-order" and tile(kiosk, 9)["state"] == "free"
    assert "1 free" in kiosk.page.locator("#board h3").all_inner_texts()[1]

    set_machine(gateways, gateway, "3", "free")  # the cycle ended
    kiosk.wait(
        "document.querySelector('#board .machine[data-number=\"3\"]').dataset.state === 'free'"
    )
    kiosk.screenshot("board-live-1920x1080.png")
    assert kiosk.console_errors() == []


def test_board_follows_a_sensor_message(browser, gateways, mosquitto, tmp_path):
    """From the shop floor to the screen: a sensor's MQTT message, the machines unit (its own
    process, as systemd runs it), the spool, the gateway's push, the board."""
    import asyncio
    import concurrent.futures

    import yaml

    from tests.conftest import KNOWLEDGE

    gateway = gateways.start()
    feeds = [{"topic": "shop/machine/{n}", "payload": "json", "stale_after": 0}]
    settings = {
        "knowledge": str(KNOWLEDGE),
        "store": {"spool": str(gateways.folder / "spool.sqlite")},
        "machines": {"broker": "127.0.0.1", "port": mosquitto.port, "feeds": feeds},
    }
    config = tmp_path / "machines.yaml"
    config.write_text(yaml.safe_dump(settings))
    log = tmp_path / "machines.log"
    unit = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "machines", "--config", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    async def send(payload: dict[str, object]) -> None:
        async with mosquitto.client() as client:
            await client.publish("shop/machine/4", json.dumps(payload), qos=1)

    def publish(payload: dict[str, object]) -> None:
        # Playwright's sync API owns this thread's event loop: publish from another thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, send(payload)).result(timeout=20)

    try:
        deadline = time.monotonic() + 30
        while "connected and subscribed" not in log.read_text():
            assert unit.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        kiosk = open_kiosk(browser(), f"{gateway.url}/?kiosk=board-sensor")
        kiosk.wait("document.getElementById('board').dataset.live === 'yes'")
        four = "document.querySelector('#board .machine[data-number=\"4\"]').dataset.state"
        publish({"state": "busy", "minutes_left": 30})
        kiosk.wait(f"{four} === 'busy'")
        assert "30 min left" in tile(kiosk, 4)["text"]
        publish({"state": "free"})
        kiosk.wait(f"{four} === 'free'")
        assert kiosk.console_errors() == []
    finally:
        unit.terminate()
        unit.wait(20)
