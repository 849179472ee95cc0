// The on-screen keyboard: the kiosk has a touch screen and no keyboard. It opens when the
// question field (or the keyboard button beside it) is tapped and closes on send or its close
// key. English is QWERTY; Korean is the 2-set (두벌식) layout, composed into syllables by
// hangul.js. The layout follows the page's language (renderKeyboard, from render()).

import { HangulComposer } from "./hangul.js";
import { state } from "./state.js";
import { translate } from "./texts.js";

const DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];

// Rows of keys; {action} keys do something else than typing. "shifted" is what a key types
// after the shift key (Korean doubles: ㅃ ㅉ ㄸ ㄲ ㅆ ㅒ ㅖ).
const LAYOUTS = {
  en: [
    DIGITS,
    ["q", "w", "e", "r", "t", "y", "u", "i", "o", "p"],
    ["a", "s", "d", "f", "g", "h", "j", "k", "l", "?"],
    ["z", "x", "c", "v", "b", "n", "m", ",", ".", { action: "backspace" }],
    [{ action: "close" }, { action: "space" }, { action: "send" }],
  ],
  ko: [
    DIGITS,
    ["ㅂ", "ㅈ", "ㄷ", "ㄱ", "ㅅ", "ㅛ", "ㅕ", "ㅑ", "ㅐ", "ㅔ"],
    ["ㅁ", "ㄴ", "ㅇ", "ㄹ", "ㅎ", "ㅗ", "ㅓ", "ㅏ", "ㅣ", "?"],
    [{ action: "shift" }, "ㅋ", "ㅌ", "ㅊ", "ㅍ", "ㅠ", "ㅜ", "ㅡ", { action: "backspace" }],
    [{ action: "close" }, { action: "space" }, { action: "send" }],
  ],
};
const SHIFTED = { "ㅂ": "ㅃ", "ㅈ": "ㅉ", "ㄷ": "ㄸ", "ㄱ": "ㄲ", "ㅅ": "ㅆ", "ㅐ": "ㅒ", "ㅔ": "ㅖ" };

// Pictures for the keys that do not type a letter (drawn in a 24x24 box).
const ICONS = {
  backspace: '<path d="M9 5h11v14H9l-6-7z"/><path d="m12 9 5 6m0-6-5 6"/>',
  shift: '<path d="M12 4 4 12h4v7h8v-7h4z"/>',
  close: '<rect x="3" y="6" width="18" height="10" rx="2"/><path d="M7 10h.01M11 10h.01M15 10h.01M8 13h8M9 19l3 2 3-2"/>',
  send: '<path d="M4 12 20 4l-5 16-3-6.5z"/><path d="M12 13.5 20 4"/>',
};

const kb = {
  box: null,
  input: null,
  toggle: null,
  onSend: () => {},
  composer: new HangulComposer(),
  shown: "", // what the composer last put in the field
  shift: false,
  lang: null,
};

export const keyboardOpen = () => Boolean(kb.box && !kb.box.hidden);

/** Build the keyboard into ``box`` for ``input``; ``onSend`` submits the question. */
export function initKeyboard({ box, input, toggle, onSend }) {
  kb.box = box;
  kb.input = input;
  kb.onSend = onSend;
  kb.toggle = toggle;
  input.addEventListener("click", () => openKeyboard());
  toggle.addEventListener("click", () => (keyboardOpen() ? closeKeyboard() : openKeyboard()));
  renderKeyboard();
}

export function openKeyboard() {
  if (!kb.box) return;
  kb.box.hidden = false;
  document.body.dataset.keyboard = "open";
  kb.toggle.setAttribute("aria-pressed", "true");
}

export function closeKeyboard() {
  if (!kb.box) return;
  kb.box.hidden = true;
  document.body.dataset.keyboard = "closed";
  kb.toggle.setAttribute("aria-pressed", "false");
  setShift(false);
}

/** The field was emptied or changed from elsewhere: start composing afresh. */
export function resetKeyboard() {
  kb.composer.reset(kb.input ? kb.input.value : "");
  kb.shown = kb.composer.value;
}

/** The keys for the page's language (again only when it changed). */
export function renderKeyboard() {
  if (!kb.box) return;
  const lang = LAYOUTS[state.lang] ? state.lang : "en";
  if (kb.lang === lang) return;
  kb.lang = lang;
  kb.composer.commit();
  kb.shift = false;
  const t = (key) => translate(lang, key);
  kb.box.lang = lang;
  kb.box.dataset.layout = lang;
  kb.box.setAttribute("aria-label", t("keyboard"));
  kb.box.replaceChildren(
    ...LAYOUTS[lang].map((row) => {
      const line = document.createElement("div");
      line.className = "kb-row";
      line.append(...row.map((key) => makeKey(key, t)));
      return line;
    }),
  );
}

function makeKey(key, t) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "key";
  if (typeof key === "string") {
    button.dataset.key = key;
    button.textContent = key;
    if (SHIFTED[key]) button.dataset.shifted = SHIFTED[key];
    button.addEventListener("click", () => press(button.dataset.shifted && kb.shift ? SHIFTED[key] : key));
    return button;
  }
  const action = key.action;
  button.dataset.action = action;
  button.classList.add(`key-${action}`);
  const label = t(`key_${action}`);
  button.setAttribute("aria-label", label);
  if (ICONS[action]) {
    button.innerHTML = `<svg viewBox="0 0 24 24" aria-hidden="true">${ICONS[action]}</svg>`;
  }
  if (action === "space" || action === "send" || action === "close") {
    const text = document.createElement("span");
    text.textContent = label;
    button.append(text);
  }
  if (action === "shift") button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", () => act(action));
  return button;
}

function syncFromField() {
  // Typed on a real keyboard, emptied after a send, or filled by a test: start from that.
  if (kb.input.value !== kb.shown) resetKeyboard();
}

function show() {
  kb.shown = kb.composer.value;
  kb.input.value = kb.shown;
  kb.input.scrollLeft = kb.input.scrollWidth; // the end of a long question stays in sight
}

function press(key) {
  syncFromField();
  kb.composer.type(key);
  show();
  setShift(false);
}

function act(action) {
  syncFromField();
  if (action === "backspace") {
    kb.composer.backspace();
    show();
  } else if (action === "space") {
    kb.composer.type(" ");
    show();
  } else if (action === "shift") {
    setShift(!kb.shift);
  } else if (action === "close") {
    kb.composer.commit();
    closeKeyboard();
  } else if (action === "send") {
    kb.composer.commit();
    kb.onSend();
  }
}

function setShift(on) {
  kb.shift = on;
  if (!kb.box) return;
  kb.box.dataset.shift = on ? "on" : "off";
  for (const button of kb.box.querySelectorAll(".key[data-shifted]")) {
    button.textContent = on ? button.dataset.shifted : button.dataset.key;
  }
  kb.box.querySelector(".key-shift")?.setAttribute("aria-pressed", String(on));
}
