// The kiosk page: what the customer sees and touches. Plain ES modules, no build step.
//
// This module wires the parts together and holds the customer's own actions (asking, switching
// language). The others, by job: texts.js (the words in each language), params.js (the URL's
// query), state.js (the page's state), parts.js (sound, attendant, connection), view.js
// (rendering), info.js (kiosk.json), messages.js (what the gateway says), listening.js (sound,
// microphone, barge-in), handsfree.js (the speech detector), attract.js (the idle loop),
// keyboard.js with hangul.js (the on-screen keyboard), board.js (the machine board).
//
// For tests (and curious owners in the devtools): window.kiosk = {state, stats, ...}.

import { activity } from "./attract.js";
import { bindBoard } from "./board.js";
import { fetchInfo } from "./info.js";
import { closeKeyboard, initKeyboard, resetKeyboard } from "./keyboard.js";
import {
  HANDSFREE_KEY,
  endListening,
  interruptReply,
  setHandsFree,
  startAudio,
  toggleMic,
} from "./listening.js";
import { connectionState, handleAudio, handleMessage } from "./messages.js";
import { params } from "./params.js";
import { audio, character, connection } from "./parts.js";
import { pickLang, state, stats } from "./state.js";
import { $, bindView, render, say, setThinking, showHeard, t } from "./view.js";

connection.onmessage = handleMessage;
connection.onaudio = handleAudio;
connection.onstate = connectionState;

window.kiosk = { state, stats, connection, audio, character, ask, interruptReply, version: 1 };

// -- the customer's actions ------------------------------------------------------------------

function ask(text) {
  text = text.trim();
  if (!text) return false;
  activity();
  if (state.listening) endListening(true);
  interruptReply();
  if (!connection.ask({ type: "text", text })) {
    say(t("notConnected"), "apologetic");
    return false;
  }
  showHeard(text);
  setThinking(true);
  return true;
}

function switchLanguage(lang) {
  activity();
  if (lang === state.lang) return;
  if (state.listening) endListening(true);
  interruptReply();
  state.lang = lang;
  state.quick = [];
  render();
  say(t("greeting"), "happy");
  showHeard("");
  // A new hello on a fresh connection: the gateway keeps the session and switches language.
  connection.rehello({ lang });
}

// -- wiring and start ------------------------------------------------------------------------

function wire() {
  bindView({ ask, switchLanguage });
  bindBoard(ask);
  initKeyboard({
    box: $("keyboard"),
    input: $("question"),
    toggle: $("kb-toggle"),
    onSend: () => $("ask").requestSubmit(),
  });
  $("mic").addEventListener("click", toggleMic);
  $("handsfree").addEventListener("change", (event) => setHandsFree(event.target.checked));
  $("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ask($("question").value)) return;
    $("question").value = "";
    resetKeyboard();
    closeKeyboard();
  });
  $("start-button").addEventListener("click", () => startAudio());
  $("start").addEventListener("click", () => startAudio());
  // Any touch is a sign of life; a touch on the attendant or the answer stops its voice.
  document.addEventListener("pointerdown", () => activity(), { capture: true });
  for (const id of ["bot-wrap", "conversation"]) {
    $(id).addEventListener("pointerdown", () => interruptReply());
  }
  document.addEventListener("keydown", () => activity(), { capture: true });
}

async function main() {
  wire();
  state.lang = pickLang(params.lang); // from the copy kept by the last visit, if any
  render();
  say(t("greeting"), "happy");
  await fetchInfo();
  state.lang = pickLang(params.lang);
  // Without kiosk.json the gateway picks (it falls back to its default language itself).
  connection.lang = state.info ? state.lang : params.lang;
  render();
  connection.start();
  activity();
  // Sound: works at once where the browser allows it (a kiosk started with
  // --autoplay-policy=no-user-gesture-required), else after the one tap on the start screen.
  await startAudio();
  let wantHandsFree = params.handsfree;
  try {
    wantHandsFree ??= localStorage.getItem(HANDSFREE_KEY);
  } catch {
    // no storage: hands-free only when asked for in the URL
  }
  if (wantHandsFree === "1" && state.audioReady) await setHandsFree(true);
}

main();
