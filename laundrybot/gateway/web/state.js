// The page's state, all of it declared here, and the questions answered from it alone.
//
// `state` is what the page knows and shows; `stats` counts what happened (for tests and
// curious owners in the devtools, as window.kiosk.state and window.kiosk.stats).

export const INFO_KEY = "laundrybot.kiosk-info";

/** kiosk.json as kept by the last visit (for the offline screen before the gateway answers). */
function loadCachedInfo() {
  try {
    return JSON.parse(localStorage.getItem(INFO_KEY) || "null");
  } catch {
    return null;
  }
}

export const stats = {
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

export const state = {
  info: loadCachedInfo(), // kiosk.json: the shop's name, contact and quick questions
  lang: null,
  languages: [], // from the gateway's welcome
  quick: [], // the welcome's quick questions
  conn: "connecting", // "connecting" | "online" | "reconnecting" | "offline"
  ready: false, // the gateway's status
  degraded: [],
  listening: false,
  listenHow: null, // "button" | "handsfree" while listening
  thinking: false,
  handsFree: false,
  audioReady: false,
  micProblem: false, // the microphone was refused or is missing
  idle: false, // the attract loop is on
  greeted: false,
  turns: 0,
};

/** The shop's info in one language (this page's by default), or null. */
export function langInfo(lang = state.lang) {
  return state.info && state.info.languages ? state.info.languages[lang] || null : null;
}

/** The shop's language nearest to ``wanted`` (e.g. "ko-KR" -> "ko"), else its default. */
export function pickLang(wanted) {
  const langs = state.info ? Object.keys(state.info.languages) : [];
  if (wanted) {
    for (const lang of [wanted, wanted.split("-")[0]]) if (langs.includes(lang)) return lang;
  }
  return state.info ? state.info.default_lang : "en";
}

export function voiceInput() {
  if (state.ready) return !state.degraded.includes("voice-input");
  return Boolean(langInfo()?.voice_input);
}

export function voiceOutput() {
  if (state.ready) return !state.degraded.includes("voice-output");
  return Boolean(langInfo()?.voice_output);
}
