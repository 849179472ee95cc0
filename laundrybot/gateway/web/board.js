// The live machine board: every machine with its state, large enough to read from the
// folding table, so a customer can look instead of asking. Each state has its own picture and
// words as well as its colour (colour-blind safe). Tapping a machine asks about it.
//
// Data: kiosk.json's `machines` (number, kind, size) shows the board before the gateway says
// anything; the gateway's `machines` message (on connect and on every change) gives the
// states: {"type": "machines", "machines": [{number, kind, size, state, minutes_left, source,
// updated}]}, state "free" | "busy" | "out-of-order" | "unknown" (and "done", if a feed says
// so). Minutes left count down here from when the message came; a busy machine whose minutes
// ran out is "finishing".

import { state } from "./state.js";
import { translate } from "./texts.js";

const TICK = 15000;
const KINDS = ["washer", "dryer"];
const STATES = new Set(["free", "busy", "finishing", "done", "out-of-order", "unknown"]);

// Pictures (24x24): the kind of machine, and one shape per state.
const KIND_ICONS = {
  washer:
    '<rect x="3" y="2" width="18" height="20" rx="3"/><path d="M6 5.5h3"/><circle cx="12" cy="13.5" r="5.5"/><path d="M8.5 14.5q1.75-1.5 3.5 0t3.5 0"/>',
  dryer:
    '<rect x="3" y="2" width="18" height="20" rx="3"/><path d="M6 5.5h3"/><circle cx="12" cy="13.5" r="5.5"/><path d="M10 11q-1 1.25 0 2.5t0 2.5M14 11q-1 1.25 0 2.5t0 2.5"/>',
};
const STATE_ICONS = {
  free: '<circle cx="12" cy="12" r="9.5"/><path d="m7.5 12.5 3 3 6-6.5"/>',
  busy: '<circle cx="12" cy="12" r="9.5"/><path d="M12 6.5V12l3.5 2.5"/>',
  finishing: '<path d="M6.5 3h11M6.5 21h11M7.5 3c0 5 9 6 9 9s-9 4-9 9M16.5 3c0 5-9 6-9 9s9 4 9 9"/>',
  done: '<path d="M6 21V3.5M6 4h12l-3 4 3 4H6"/>',
  "out-of-order": '<path d="M12 2.5 22 20H2z"/><path d="M12 9v5M12 17v.01"/>',
  unknown: '<circle cx="12" cy="12" r="9.5"/><path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .9-1 1.7M12 17v.01"/>',
};

const board = { machines: [], receivedAt: 0, live: false, timer: 0, onAsk: () => false, shown: "" };

const svg = (paths, className) =>
  `<svg class="${className}" viewBox="0 0 24 24" aria-hidden="true">${paths}</svg>`;

/** What tapping a machine does (kiosk.js: ask a question about it). */
export function bindBoard(onAsk) {
  board.onAsk = onAsk;
}

/** The gateway's `machines` message: the whole list, states and all. */
export function showMachines(message) {
  if (!Array.isArray(message.machines)) return;
  board.machines = message.machines.filter((m) => Number.isInteger(m?.number));
  board.receivedAt = Date.now();
  board.live = true;
  renderBoard();
}

/** The machines to show: the last message's, else kiosk.json's list (state unknown). */
function machines() {
  if (board.live) return board.machines;
  const listed = Array.isArray(state.info?.machines) ? state.info.machines : [];
  return listed.map((m) => ({ ...m, state: "unknown" }));
}

/** A machine's state as shown, and its minutes left (counted down since the message came). */
export function shownState(machine, now = Date.now()) {
  let shown = STATES.has(machine.state) ? machine.state : "unknown";
  let minutes = null;
  if (shown === "busy" && typeof machine.minutes_left === "number") {
    const left = machine.minutes_left * 60000 - (now - board.receivedAt);
    if (left <= 0) shown = "finishing";
    else minutes = Math.ceil(left / 60000);
  }
  return { state: shown, minutes };
}

export function renderBoard() {
  const box = document.getElementById("board");
  if (!box) return;
  const lang = state.lang || "en";
  const t = (key, vars) => translate(lang, key, vars);
  const list = machines();
  box.hidden = list.length === 0;
  document.body.dataset.board = list.length ? "yes" : "no";
  clearTimeout(board.timer);
  if (!list.length) return;
  const sizes = state.info?.languages?.[lang]?.sizes || {};
  const now = Date.now();
  const groups = KINDS.map((kind) => [kind, list.filter((m) => m.kind === kind)]);
  const others = list.filter((m) => !KINDS.includes(m.kind));
  if (others.length) groups.push(["other", others]);
  const tiles = [];
  const counts = {};
  for (const [kind, members] of groups) {
    for (const machine of [...members].sort((a, b) => a.number - b.number)) {
      const { state: shown, minutes } = shownState(machine, now);
      if (shown === "free") counts[kind] = (counts[kind] || 0) + 1;
      tiles.push({ kind, machine, shown, minutes });
    }
  }
  // Rebuild only when something a customer sees changed (a tap must not land on a new node).
  const key = JSON.stringify([lang, board.live, tiles.map((x) => [x.machine.number, x.kind, x.machine.size, x.shown, x.minutes]), sizes]);
  if (key !== board.shown) {
    board.shown = key;
    const title = document.createElement("h2");
    title.id = "board-title";
    title.textContent = t("boardTitle");
    const hint = document.createElement("p");
    hint.id = "board-hint";
    hint.textContent = t("boardHint");
    const head = document.createElement("div");
    head.id = "board-head";
    head.append(title, hint);
    const sections = groups
      .filter(([, members]) => members.length)
      .map(([kind]) => {
        const section = document.createElement("section");
        section.className = "board-group";
        section.dataset.kind = kind;
        const heading = document.createElement("h3");
        heading.innerHTML = svg(KIND_ICONS[kind] || KIND_ICONS.washer, "kind-icon");
        heading.append(t(`kinds_${kind}`), " ");
        const free = document.createElement("span");
        free.className = "free-count";
        free.textContent = t("freeCount", { n: counts[kind] || 0 });
        if (board.live) heading.append(free);
        const grid = document.createElement("div");
        grid.className = "board-grid";
        grid.append(...tiles.filter((x) => x.kind === kind).map((x) => tile(x, sizes, t)));
        section.append(heading, grid);
        return section;
      });
    box.replaceChildren(head, ...sections);
    box.dataset.live = board.live ? "yes" : "no";
  }
  // Minutes left go down by themselves between messages.
  if (tiles.some((x) => x.shown === "busy")) board.timer = setTimeout(renderBoard, TICK);
}

function tile({ kind, machine, shown, minutes }, sizes, t) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "machine";
  button.dataset.number = String(machine.number);
  button.dataset.kind = kind;
  button.dataset.state = shown;
  const kindName = t(`kind_${kind}`);
  const sizeName = sizes[kind]?.[machine.size] || machine.size || "";
  const stateText = t(`state_${shown}`);
  const minutesText = minutes !== null ? t("minutesLeft", { n: minutes }) : "";

  const number = document.createElement("span");
  number.className = "m-number";
  number.textContent = String(machine.number);
  const size = document.createElement("span");
  size.className = "m-size";
  size.innerHTML = svg(KIND_ICONS[kind] || KIND_ICONS.washer, "kind-icon");
  const sizeText = document.createElement("span");
  sizeText.textContent = sizeName;
  size.append(sizeText);
  const words = document.createElement("span");
  words.className = "m-state-text";
  words.textContent = minutesText || stateText;
  button.append(number, size, words);
  button.insertAdjacentHTML("beforeend", svg(STATE_ICONS[shown], "state-icon"));
  const label = [`${kindName} ${machine.number}`, sizeName, stateText, minutesText];
  button.setAttribute("aria-label", label.filter(Boolean).join(", "));
  button.addEventListener("click", () => {
    button.classList.add("pressed");
    setTimeout(() => button.classList.remove("pressed"), 250);
    board.onAsk(t("askMachine", { kind: kindName.toLowerCase(), n: machine.number }));
  });
  return button;
}
