// The attract loop when nobody is there: after a while without a touch or a word, greet in
// every language and show example questions, and start the next customer afresh.

import { closeKeyboard, resetKeyboard } from "./keyboard.js";
import { params } from "./params.js";
import { audio, character, connection } from "./parts.js";
import { langInfo, state, stats } from "./state.js";
import { TEXT } from "./texts.js";
import { $, render, say, showHeard, showIdle, t } from "./view.js";

const ATTRACT_STEP = 6000;

const loop = { idleTimer: 0, stepTimer: 0, step: 0 };

/** A sign of life: the attract loop waits again from now (and stops if it was on). */
export function activity() {
  clearTimeout(loop.idleTimer);
  loop.idleTimer = setTimeout(enterAttract, params.attractAfter);
  if (state.idle) leaveAttract();
}

function enterAttract() {
  if (state.listening || state.thinking || (audio.player && audio.player.playing)) {
    activity();
    return;
  }
  state.idle = true;
  showIdle(true);
  stats.attractLoops += 1;
  // The next customer starts afresh: no previous question on screen, a new conversation,
  // the shop's own language.
  showHeard("");
  $("question").value = "";
  resetKeyboard();
  closeKeyboard();
  const home = state.info?.default_lang;
  if (connection.online && (state.turns > 0 || (home && home !== state.lang))) {
    if (home) state.lang = home;
    state.quick = [];
    state.turns = 0;
    render();
    connection.rehello({ lang: home, fresh: true });
  }
  loop.step = 0;
  attractTick();
}

function attractTick() {
  if (!state.idle) return;
  const langs = state.info ? Object.keys(state.info.languages) : [state.lang];
  const questions = state.quick.length ? state.quick : langInfo()?.quick_questions || [];
  const step = loop.step++;
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
  loop.stepTimer = setTimeout(attractTick, ATTRACT_STEP);
}

function leaveAttract() {
  state.idle = false;
  showIdle(false);
  clearTimeout(loop.stepTimer);
  say(t("greeting"), "happy");
}
