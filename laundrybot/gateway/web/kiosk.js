// The kiosk page: what the customer sees and touches. Plain ES modules, no build step.
//
// URL query: kiosk=NAME (default "kiosk"), token=..., lang=xx (else the shop's default),
// handsfree=1, and for tests and demos attract=SECONDS (idle time before the attract loop) and
// offline=SECONDS (time away before the offline screen).
//
// For tests (and curious owners in the devtools): window.kiosk = {state, stats, ...}.

import { Audio } from "./audio.js";
import { Character } from "./character.js";
import { Connection } from "./connection.js";

const TEXT = {
  en: {
    connecting: "Connecting…",
    online: "Ready to help",
    reconnecting: "Reconnecting…",
    offline: "Offline",
    greeting: "Hi! Tap a question, or just ask me.",
    attract: "Try asking: “{q}”",
    you: "You:",
    listeningHint: "Listening…",
    mic: "Tap to talk",
    micListening: "Listening – tap when done",
    handsfree: "Hands-free",
    placeholder: "Type your question…",
    send: "Send",
    didNotCatch: "Sorry, I didn’t catch that. Please try again, or type your question.",
    voiceInputOff: "Voice input unavailable, please type.",
    voiceOutputOff: "Answers are shown as text: the voice is resting.",
    voiceBoth: "Voice unavailable: please type, and read the answer here.",
    micDenied: "The microphone is not available here, please type.",
    notConnected: "Reconnecting… please ask again in a moment.",
    failed: "Sorry, something went wrong. Please try again.",
    offlineTitle: "The attendant is taking a short break",
    offlineText: "It will be back by itself in a moment. For urgent help, please call the staff:",
    retryIn: "Trying again in {s} s",
    retrying: "Trying again now…",
    startTitle: "Tap to start",
    startText: "One tap switches on the attendant’s voice.",
  },
  ko: {
    connecting: "연결 중…",
    online: "무엇이든 물어보세요",
    reconnecting: "다시 연결하는 중…",
    offline: "연결 끊김",
    greeting: "안녕하세요! 버튼을 누르거나 저에게 말로 물어보세요.",
    attract: "이렇게 물어보세요: “{q}”",
    you: "나:",
    listeningHint: "듣고 있어요…",
    mic: "눌러서 말하기",
    micListening: "듣는 중 – 다 말하면 누르세요",
    handsfree: "핸즈프리",
    placeholder: "질문을 입력하세요…",
    send: "보내기",
    didNotCatch: "잘 못 들었어요. 다시 말씀해 주시거나 입력해 주세요.",
    voiceInputOff: "음성 입력을 쓸 수 없어요. 글로 입력해 주세요.",
    voiceOutputOff: "답변은 화면에 글로 보여 드려요.",
    voiceBoth: "음성을 쓸 수 없어요. 글로 입력하고 화면에서 답을 읽어 주세요.",
    micDenied: "마이크를 쓸 수 없어요. 글로 입력해 주세요.",
    notConnected: "다시 연결하는 중이에요. 잠시 후 다시 물어봐 주세요.",
    failed: "죄송해요, 문제가 생겼어요. 다시 해 주세요.",
    offlineTitle: "안내원이 잠시 쉬고 있어요",
    offlineText: "곧 저절로 돌아와요. 급한 일은 직원에게 전화해 주세요:",
    retryIn: "{s}초 뒤에 다시 연결해요",
    retrying: "다시 연결하는 중…",
    startTitle: "화면을 눌러 시작하세요",
    startText: "한 번 누르면 안내원의 목소리가 켜져요.",
  },
};

const params = new URLSearchParams(location.search);
const KIOSK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const kioskName = KIOSK_ID.test(params.get("kiosk") || "") ? params.get("kiosk") : "kiosk";
const seconds = (name, fallback) => {
  const value = Number.parseFloat(params.get(name) || "");
  return Number.isFinite(value) && value > 0 ? value * 1000 : fallback;
};
const ATTRACT_AFTER = seconds("attract", 60000);
const OFFLINE_AFTER = seconds("offline", 10000);
const ATTRACT_STEP = 6000;
const MAX_UTTERANCE = 15000;
const PREROLL_FRAMES = 4; // 400 ms before the speech detector fired
const INFO_KEY = "laundrybot.kiosk-info";
const HANDSFREE_KEY = "laundrybot.handsfree";

const $ = (id) => document.getElementById(id);
const body = document.body;

const stats = {
  repliesShown: 0,
  lastReply: null,
  lastTranscript: null,
  transcripts: 0,
  audioChunksReceived: 0,
  audioChunksScheduled: 0,
  audioChunksPlayed: 0,
  audioChunksDropped: 0,
  audioSecondsPlayed: 0,
  framesSent: 0,
  utterances: 0,
  interrupts: 0,
  attractLoops: 0,
  errors: [],
};

const state = {
  info: loadCachedInfo(),
  lang: null,
  languages: [],
  quick: [],
  conn: "connecting",
  ready: false,
  degraded: [],
  listening: false,
  listenHow: null,
  thinking: false,
  handsFree: false,
  audioReady: false,
  idle: false,
  greeted: false,
  turns: 0,
};

const audio = new Audio(stats);
const character = new Character($("bot"));
character.levelSource = () => (audio.player ? audio.player.level() : 0);

const wsUrl = new URL("kiosk", location.href);
wsUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
wsUrl.search = "";
const connection = new Connection({
  url: wsUrl.href,
  kiosk: kioskName,
  token: params.get("token"),
  lang: params.get("lang") || null,
  onmessage: handleMessage,
  onaudio: (data) => audio.player && audio.running ? audio.player.chunk(data) : dropAudio(),
  onstate: connectionState,
});

window.kiosk = { state, stats, connection, audio, character, ask, interruptReply, version: 1 };

// -- kiosk.json: the shop's name, contact and quick questions, kept for the offline screen ----

function loadCachedInfo() {
  try {
    return JSON.parse(localStorage.getItem(INFO_KEY) || "null");
  } catch {
    return null;
  }
}

async function fetchInfo() {
  try {
    const response = await fetch(new URL("kiosk.json", location.href), { cache: "no-store" });
    if (!response.ok) return;
    state.info = await response.json();
    try {
      localStorage.setItem(INFO_KEY, JSON.stringify(state.info));
    } catch {
      // private mode or full: the copy in memory is enough
    }
    if (!state.lang) state.lang = pickLang(params.get("lang"));
    render();
  } catch {
    // the gateway is away: keep what we have
  }
}

function pickLang(wanted) {
  const langs = state.info ? Object.keys(state.info.languages) : [];
  if (wanted) {
    for (const lang of [wanted, wanted.split("-")[0]]) if (langs.includes(lang)) return lang;
  }
  return state.info ? state.info.default_lang : "en";
}

const t = (key, vars = {}) => {
  const table = TEXT[state.lang] || TEXT.en;
  let text = table[key] ?? TEXT.en[key] ?? key;
  for (const [name, value] of Object.entries(vars)) text = text.replace(`{${name}}`, value);
  return text;
};

function langInfo(lang = state.lang) {
  return state.info && state.info.languages ? state.info.languages[lang] || null : null;
}

// -- rendering -------------------------------------------------------------------------------

function render() {
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
        button.addEventListener("click", () => switchLanguage(lang));
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
        ask(question);
      });
      return button;
    }),
  );
}

function voiceInput() {
  if (state.ready) return !state.degraded.includes("voice-input");
  return Boolean(langInfo()?.voice_input);
}

function voiceOutput() {
  if (state.ready) return !state.degraded.includes("voice-output");
  return Boolean(langInfo()?.voice_output);
}

function renderVoice() {
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

function renderConnection() {
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

function showHeard(text, partial = false) {
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

function say(text, expression = "neutral", { attract = false } = {}) {
  const reply = $("reply");
  reply.textContent = text;
  reply.classList.toggle("long", text.length > 150);
  reply.classList.toggle("attract", attract);
  character.setExpression(expression);
}

let thinkingTimer = 0;

function setThinking(on) {
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

// -- connection ------------------------------------------------------------------------------

let offlineTimer = 0;
let retryTicker = 0;

function connectionState(conn, info) {
  if (conn === "online") {
    clearTimeout(offlineTimer);
    clearInterval(retryTicker);
    state.conn = "online";
  } else if (conn === "reconnecting") {
    if (state.listening) endListening(false);
    if (audio.player) audio.player.interrupt();
    setThinking(false);
    if (state.conn !== "offline") state.conn = "reconnecting";
    // The offline screen after a while away; a countdown to the next try on it.
    clearTimeout(offlineTimer);
    const away = Date.now() - info.since;
    offlineTimer = setTimeout(() => {
      state.conn = "offline";
      render();
    }, Math.max(0, OFFLINE_AFTER - away));
    const retryAt = Date.now() + info.delay;
    clearInterval(retryTicker);
    const tick = () => {
      const left = Math.ceil((retryAt - Date.now()) / 1000);
      $("offline-retry").textContent = left > 0 ? t("retryIn", { s: left }) : t("retrying");
    };
    tick();
    retryTicker = setInterval(tick, 1000);
  } else if (conn !== "switching") {
    state.conn = conn;
  }
  renderConnection();
  renderVoice();
}

function handleMessage(message) {
  switch (message.type) {
    case "welcome":
      welcome(message);
      break;
    case "status":
      state.ready = Boolean(message.ready);
      state.degraded = Array.isArray(message.degraded) ? message.degraded : [];
      if (!voiceInput()) {
        if (state.listening) endListening(false);
      }
      renderVoice();
      break;
    case "transcript":
      transcript(message);
      break;
    case "reply":
      reply(message);
      break;
    case "audio-start":
      if (audio.player && audio.running) {
        audio.player.begin(message);
        setSpeaking(true);
      }
      break;
    case "audio-stop":
      if (audio.player) audio.player.end(message);
      break;
    case "error":
      serverError(message);
      break;
    default:
      break; // pong, and whatever a newer gateway sends
  }
}

function welcome(message) {
  const langChanged = state.lang !== message.lang;
  state.lang = message.lang;
  state.languages = Array.isArray(message.languages) ? message.languages : [];
  state.quick = Array.isArray(message.quick_questions) ? message.quick_questions : [];
  if (!message.resumed) state.turns = 0;
  render();
  fetchInfo(); // voice availability or the knowledge file may have changed meanwhile
  if (!state.greeted || (langChanged && !state.idle)) {
    state.greeted = true;
    say(t("greeting"), "happy");
    character.wave();
  }
}

function transcript(message) {
  stats.transcripts += 1;
  stats.lastTranscript = message;
  if (!message.final) {
    if (message.text) showHeard(message.text, true);
    return;
  }
  const how = state.listenHow;
  endListening(false);
  if (message.text) {
    showHeard(message.text);
    setThinking(true);
  } else {
    // Nothing understood: a word of help after a tap; hands-free just listens on quietly.
    setThinking(false);
    showHeard("");
    if (how !== "handsfree") say(t("didNotCatch"), "apologetic");
  }
  activity();
}

function reply(message) {
  stats.repliesShown += 1;
  stats.lastReply = message;
  state.turns += 1;
  setThinking(false);
  const bubble = $("bubble");
  bubble.dataset.intent = message.intent || "";
  bubble.dataset.source = message.source || "";
  bubble.dataset.turn = message.turn || "";
  say(message.text || "", message.expression || "neutral");
  if (!voiceOutput() || !audio.running) {
    character.talkFor(Math.min(9000, 600 + (message.text || "").length * 55));
  }
  activity();
}

function serverError(message) {
  stats.errors.push(message);
  if (stats.errors.length > 20) stats.errors.shift();
  if (message.code === "rate-limited") return;
  if (state.listening || message.code === "not-ready") {
    if (state.listening) endListening(false);
    setThinking(false);
    if (!voiceInput() || /voice/.test(message.message || "")) {
      renderVoice();
      return;
    }
  }
  if (state.thinking) {
    setThinking(false);
    say(t("failed"), "apologetic");
  }
}

function dropAudio() {
  stats.audioChunksReceived += 1;
  stats.audioChunksDropped += 1;
}

// -- asking ----------------------------------------------------------------------------------

function ask(text) {
  text = text.trim();
  if (!text) return false;
  activity();
  if (state.listening) endListening(true);
  interruptReply();
  if (!connection.send({ type: "text", text })) {
    say(t("notConnected"), "apologetic");
    return false;
  }
  showHeard(text);
  setThinking(true);
  return true;
}

/** Stop the reply that is playing (barge-in): locally at once, and tell the gateway. */
function interruptReply() {
  character.stopTalking();
  if (!audio.player || !audio.player.playing) return false;
  audio.player.interrupt();
  stats.interrupts += 1;
  connection.send({ type: "interrupt" });
  setSpeaking(false);
  return true;
}

function setSpeaking(on) {
  body.dataset.speaking = on ? "yes" : "no";
}

// -- listening -------------------------------------------------------------------------------

let utteranceTimer = 0;
let preroll = [];
let floor = 0.004;
let hot = 0;
let armedAt = 0;

async function ensureMic() {
  await startAudio();
  try {
    await audio.mic.ensure();
    state.micProblem = false;
    return true;
  } catch (error) {
    console.warn("microphone unavailable:", error.message || error);
    state.micProblem = true;
    renderVoice();
    return false;
  }
}

async function toggleMic() {
  activity();
  if (state.listening) {
    endListening(true);
    setThinking(true);
    return;
  }
  if (!voiceInput()) return;
  interruptReply();
  if (!(await ensureMic())) return;
  beginListening("button", []);
}

function beginListening(how, frames) {
  if (state.listening || !voiceInput()) return false;
  if (!connection.send({ type: "audio-start", rate: 16000 })) {
    say(t("notConnected"), "apologetic");
    return false;
  }
  state.listening = true;
  state.listenHow = how;
  stats.utterances += 1;
  for (const frame of frames) sendFrame(frame);
  showHeard(t("listeningHint"), true);
  character.setExpression("listening");
  clearTimeout(utteranceTimer);
  utteranceTimer = setTimeout(() => {
    if (state.listening) endListening(true);
  }, MAX_UTTERANCE);
  renderVoice();
  return true;
}

/** Stop sending audio; ``tell`` sends audio-stop (the customer ended it, not the gateway). */
function endListening(tell) {
  if (!state.listening) return;
  state.listening = false;
  state.listenHow = null;
  clearTimeout(utteranceTimer);
  if (tell) connection.send({ type: "audio-stop" });
  character.setListening(false);
  armedAt = performance.now() + 600;
  hot = 0;
  renderVoice();
}

function sendFrame(pcm) {
  if (connection.sendBinary(pcm)) stats.framesSent += 1;
}

function micFrame(pcm, level) {
  if (state.listening) {
    character.setListening(true, level);
    sendFrame(pcm);
    return;
  }
  character.setListening(false);
  // Hands-free: a simple energy detector over an adaptive noise floor opens an utterance,
  // with the last few frames as pre-roll so the first syllable is not lost.
  preroll.push(pcm);
  if (preroll.length > PREROLL_FRAMES) preroll.shift();
  if (!state.handsFree || !voiceInput() || state.conn !== "online" || state.thinking) return;
  const playing = audio.player && audio.player.playing;
  const threshold = Math.max(0.015, floor * 3.5) * (playing ? 2.5 : 1);
  if (level > threshold) {
    hot += 1;
  } else {
    hot = 0;
    floor += (Math.min(level, floor * 4) - floor) * 0.05;
    floor = Math.max(0.001, floor);
  }
  if (hot >= 2 && performance.now() > armedAt) {
    hot = 0;
    activity();
    if (playing) interruptReply();
    const frames = preroll;
    preroll = [];
    beginListening("handsfree", frames);
  }
}

async function setHandsFree(on) {
  if (on && !(await ensureMic())) on = false;
  state.handsFree = on;
  $("handsfree").checked = on;
  body.dataset.handsfree = on ? "yes" : "no";
  try {
    localStorage.setItem(HANDSFREE_KEY, on ? "1" : "0");
  } catch {
    // not kept: fine
  }
}

// -- language --------------------------------------------------------------------------------

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

// -- attract loop when nobody is there ------------------------------------------------------

let idleTimer = 0;
let attractTimer = 0;
let attractStep = 0;

function activity() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(enterAttract, ATTRACT_AFTER);
  if (state.idle) leaveAttract();
}

function enterAttract() {
  if (state.listening || state.thinking || (audio.player && audio.player.playing)) {
    activity();
    return;
  }
  state.idle = true;
  body.dataset.idle = "yes";
  stats.attractLoops += 1;
  // The next customer starts afresh: no previous question on screen, a new conversation,
  // the shop's own language.
  showHeard("");
  const home = state.info?.default_lang;
  if (connection.online && (state.turns > 0 || (home && home !== state.lang))) {
    if (home) state.lang = home;
    state.quick = [];
    state.turns = 0;
    render();
    connection.rehello({ lang: home, fresh: true });
  }
  attractStep = 0;
  attractTick();
}

function attractTick() {
  if (!state.idle) return;
  const langs = state.info ? Object.keys(state.info.languages) : [state.lang];
  const questions = state.quick.length ? state.quick : langInfo()?.quick_questions || [];
  const step = attractStep++;
  // Greet in every language, then show an example question, and again.
  const cycle = langs.length + 1;
  const slot = step % cycle;
  if (slot < langs.length) {
    const lang = langs[slot];
    say((TEXT[lang] || TEXT.en).greeting, "happy", { attract: true });
    if (slot === 0) character.wave();
  } else if (questions.length) {
    const q = questions[Math.floor(step / cycle) % questions.length];
    say(t("attract", { q }), "neutral", { attract: true });
  }
  attractTimer = setTimeout(attractTick, ATTRACT_STEP);
}

function leaveAttract() {
  state.idle = false;
  body.dataset.idle = "no";
  clearTimeout(attractTimer);
  say(t("greeting"), "happy");
}

// -- start: sound needs one tap in most browsers ------------------------------------------

async function startAudio() {
  audio.onstatechange = audioState;
  audioState(await audio.start());
  return state.audioReady;
}

function audioState(running) {
  state.audioReady = running;
  if (running && audio.mic.onframe !== micFrame) {
    audio.player.onidle = () => setSpeaking(false);
    audio.mic.onframe = micFrame;
  }
  $("start").hidden = running;
}

function wire() {
  $("mic").addEventListener("click", toggleMic);
  $("handsfree").addEventListener("change", (event) => setHandsFree(event.target.checked));
  $("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    if (ask($("question").value)) $("question").value = "";
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
  state.lang = pickLang(params.get("lang")); // from the copy kept by the last visit, if any
  render();
  say(t("greeting"), "happy");
  await fetchInfo();
  state.lang = pickLang(params.get("lang"));
  // Without kiosk.json the gateway picks (it falls back to its default language itself).
  connection.lang = state.info ? state.lang : params.get("lang");
  render();
  connection.start();
  activity();
  // Sound: works at once where the browser allows it (a kiosk started with
  // --autoplay-policy=no-user-gesture-required), else after the one tap on the start screen.
  await startAudio();
  let wantHandsFree = params.get("handsfree");
  try {
    wantHandsFree ??= localStorage.getItem(HANDSFREE_KEY);
  } catch {
    // no storage: hands-free only when asked for in the URL
  }
  if (wantHandsFree === "1" && state.audioReady) await setHandsFree(true);
}

main();
