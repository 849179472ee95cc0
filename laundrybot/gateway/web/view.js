// Rendering: puts the state on the page. Nothing here talks to the gateway; what a button does
// is given by bindView().

import { renderBoard } from "./board.js";
import { renderKeyboard } from "./keyboard.js";
import { character } from "./parts.js";
import { langInfo, state, voiceInput, voiceOutput } from "./state.js";
import { translate } from "./texts.js";

export const $ = (id) => document.getElementById(id);
const body = document.body;

/** The text for ``key`` in the page's language. */
export const t = (key, vars = {}) => translate(state.lang, key, vars);

// What the language buttons and quick questions do (kiosk.js binds them).
const actions = {
  ask: () => false,
  switchLanguage: () => {},
};

export function bindView({ ask, switchLanguage }) {
  actions.ask = ask;
  actions.switchLanguage = switchLanguage;
}

let thinkingTimer = 0;

export function render() {
  const info = langInfo();
  document.documentElement.lang = state.lang || "en";
  body.dataset.lang = state.lang || "";
  if (info) {
    $("shop-name").textContent = info.shop_name;
    $("shop-address").textContent = info.address;
    $("privacy").textContent = info.privacy;
    document.title = info.shop_name;
  }
  renderLanguages();
  renderQuick();
  renderVoice();
  renderConnection();
  $("question").placeholder = t("placeholder");
  $("send-label").textContent = t("send");
  $("kb-toggle").setAttribute("aria-label", t("keyboard"));
  renderKeyboard();
  renderBoard();
  $("handsfree-text").textContent = t("handsfree");
  $("start-title").textContent = t("startTitle");
  $("start-text").textContent = t("startText");
  renderOffline();
}

function renderLanguages() {
  const nav = $("langs");
  const langs = state.languages.length
    ? state.languages
    : state.info ? Object.keys(state.info.languages) : [];
  const wanted = langs.join(",");
  if (nav.dataset.langs !== wanted) {
    nav.dataset.langs = wanted;
    nav.replaceChildren(
      ...langs.map((lang) => {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.lang = lang;
        button.lang = lang;
        button.textContent = state.info?.languages?.[lang]?.name || lang;
        button.addEventListener("click", () => actions.switchLanguage(lang));
        return button;
      }),
    );
  }
  nav.hidden = langs.length < 2;
  for (const button of nav.children) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
}

function renderQuick() {
  const questions = state.quick.length ? state.quick : langInfo()?.quick_questions || [];
  const box = $("quick");
  if (box.dataset.questions === questions.join("\n")) return;
  box.dataset.questions = questions.join("\n");
  box.replaceChildren(
    ...questions.map((question) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "quick";
      button.textContent = question;
      button.addEventListener("click", () => {
        button.classList.add("pressed");
        setTimeout(() => button.classList.remove("pressed"), 250);
        actions.ask(question);
      });
      return button;
    }),
  );
}

export function renderVoice() {
  const canListen = voiceInput();
  const canSpeak = voiceOutput();
  $("mic").disabled = !canListen;
  $("handsfree").disabled = !canListen;
  $("mic-label").textContent = state.listening ? t("micListening") : t("mic");
  $("mic").setAttribute("aria-pressed", String(state.listening));
  body.dataset.mic = state.listening ? "listening" : canListen ? "off" : "unavailable";
  body.dataset.voiceInput = canListen ? "yes" : "no";
  body.dataset.voiceOutput = canSpeak ? "yes" : "no";
  let notice = "";
  if (state.conn === "online" || state.conn === "reconnecting") {
    if (!canListen && !canSpeak) notice = t("voiceBoth");
    else if (!canListen) notice = t("voiceInputOff");
    else if (!canSpeak) notice = t("voiceOutputOff");
  }
  if (state.micProblem && canListen) notice = t("micDenied");
  $("notice").textContent = notice;
}

export function renderConnection() {
  const conn = state.conn;
  body.dataset.conn = conn;
  $("conn-text").textContent = t(conn);
  $("offline").hidden = conn !== "offline";
}

function renderOffline() {
  const info = langInfo() || langInfo(state.info?.default_lang);
  $("offline-title").textContent = t("offlineTitle");
  $("offline-text").textContent = t("offlineText");
  $("offline-phone-number").textContent = info?.staff_phone || "";
  $("offline-note").textContent = info?.staff_phone_note || "";
  $("offline-address").textContent = info ? `${info.shop_name} · ${info.address}` : "";
}

/** The offline screen's countdown to the next try. */
export function showRetry(text) {
  $("offline-retry").textContent = text;
}

export function showHeard(text, partial = false) {
  const heard = $("heard");
  heard.classList.toggle("partial", partial);
  if (!text) {
    heard.replaceChildren();
    return;
  }
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = t("you");
  heard.replaceChildren(who, document.createTextNode(text));
}

export function say(text, expression = "neutral", { attract = false } = {}) {
  const reply = $("reply");
  reply.textContent = text;
  reply.classList.toggle("long", text.length > 150);
  reply.classList.toggle("attract", attract);
  character.setExpression(expression);
}

export function showReplyTags(message) {
  const bubble = $("bubble");
  bubble.dataset.intent = message.intent || "";
  bubble.dataset.source = message.source || "";
  bubble.dataset.turn = message.turn || "";
}

export function setThinking(on) {
  state.thinking = on;
  body.dataset.thinking = on ? "yes" : "no";
  clearTimeout(thinkingTimer);
  if (!on) return;
  character.setExpression("thinking");
  // An answer that never comes must not leave the page waiting (or hands-free deaf).
  thinkingTimer = setTimeout(() => {
    if (!state.thinking) return;
    setThinking(false);
    say(t("failed"), "apologetic");
  }, 20000);
}

export function setSpeaking(on) {
  body.dataset.speaking = on ? "yes" : "no";
}

export function showStart(shown) {
  $("start").hidden = !shown;
}

export function showHandsFree(on) {
  $("handsfree").checked = on;
  body.dataset.handsfree = on ? "yes" : "no";
}

export function showIdle(idle) {
  body.dataset.idle = idle ? "yes" : "no";
}
