// Sound and the microphone: starting audio, listening (by the button or hands-free), sending
// the customer's voice to the gateway, and stopping a reply that is playing (barge-in).

import { activity } from "./attract.js";
import { rearm, speechStarted } from "./handsfree.js";
import { audio, character, connection } from "./parts.js";
import { state, stats, voiceInput } from "./state.js";
import {
  renderVoice,
  say,
  setSpeaking,
  setThinking,
  showHandsFree,
  showHeard,
  showStart,
  t,
} from "./view.js";

const MAX_UTTERANCE = 15000;
export const HANDSFREE_KEY = "laundrybot.handsfree";

let utteranceTimer = 0;

// -- start: sound needs one tap in most browsers ------------------------------------------

export async function startAudio() {
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
  showStart(!running);
}

/** Stop the reply that is playing (barge-in): locally at once, and tell the gateway. */
export function interruptReply() {
  character.stopTalking();
  if (!audio.player || !audio.player.playing) return false;
  audio.player.interrupt();
  stats.interrupts += 1;
  connection.send({ type: "interrupt" });
  setSpeaking(false);
  return true;
}

// -- listening -------------------------------------------------------------------------------

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

export async function toggleMic() {
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
export function endListening(tell) {
  if (!state.listening) return;
  state.listening = false;
  state.listenHow = null;
  clearTimeout(utteranceTimer);
  if (tell) connection.send({ type: "audio-stop" });
  character.setListening(false);
  rearm();
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
  const playing = audio.player && audio.player.playing;
  const frames = speechStarted(pcm, level, playing);
  if (!frames) return;
  activity();
  if (playing) interruptReply();
  beginListening("handsfree", frames);
}

export async function setHandsFree(on) {
  if (on && !(await ensureMic())) on = false;
  state.handsFree = on;
  showHandsFree(on);
  try {
    localStorage.setItem(HANDSFREE_KEY, on ? "1" : "0");
  } catch {
    // not kept: fine
  }
}
