// What the gateway says, and what the page does about it: the connection's state (with the
// offline screen after a while away) and each message type.

import { activity } from "./attract.js";
import { showMachines } from "./board.js";
import { fetchInfo } from "./info.js";
import { endListening } from "./listening.js";
import { params } from "./params.js";
import { audio, character } from "./parts.js";
import { state, stats, voiceInput, voiceOutput } from "./state.js";
import {
  render,
  renderConnection,
  renderVoice,
  say,
  setSpeaking,
  setThinking,
  showHeard,
  showReplyTags,
  showRetry,
  t,
} from "./view.js";

const away = { offlineTimer: 0, retryTicker: 0 };

/** Connection.onstate: "connecting" | "online" | "reconnecting" | "switching". */
export function connectionState(conn, info) {
  if (conn === "online") {
    clearTimeout(away.offlineTimer);
    clearInterval(away.retryTicker);
    state.conn = "online";
  } else if (conn === "reconnecting") {
    if (state.listening) endListening(false);
    if (audio.player) audio.player.interrupt();
    setThinking(false);
    if (state.conn !== "offline") state.conn = "reconnecting";
    // The offline screen after a while away; a countdown to the next try on it.
    clearTimeout(away.offlineTimer);
    const awayFor = Date.now() - info.since;
    away.offlineTimer = setTimeout(() => {
      state.conn = "offline";
      render();
    }, Math.max(0, params.offlineAfter - awayFor));
    const retryAt = Date.now() + info.delay;
    clearInterval(away.retryTicker);
    const tick = () => {
      const left = Math.ceil((retryAt - Date.now()) / 1000);
      showRetry(left > 0 ? t("retryIn", { s: left }) : t("retrying"));
    };
    tick();
    away.retryTicker = setInterval(tick, 1000);
  } else if (conn !== "switching") {
    state.conn = conn;
  }
  renderConnection();
  renderVoice();
}

/** Connection.onmessage: one JSON message from the gateway. */
export function handleMessage(message) {
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
    case "machines":
      showMachines(message);
      break;
    default:
      break; // pong, and whatever a newer gateway sends
  }
}

/** Connection.onaudio: one binary frame of the reply's voice. */
export function handleAudio(data) {
  return audio.player && audio.running ? audio.player.chunk(data) : dropAudio();
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
  showReplyTags(message);
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
