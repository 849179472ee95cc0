// The hands-free speech detector: a simple energy detector over an adaptive noise floor opens
// an utterance, with the last few frames as pre-roll so the first syllable is not lost.

import { state, voiceInput } from "./state.js";

const PREROLL_FRAMES = 4; // 400 ms before the speech detector fired

const detector = {
  preroll: [], // the last frames heard, oldest first
  floor: 0.004, // the room's noise level
  hot: 0, // loud frames in a row
  armedAt: 0, // performance.now() before which speech is not detected
};

/**
 * One microphone frame heard while not listening. Returns the frames to send (the pre-roll)
 * when speech starts and hands-free may open an utterance, else null. ``playing``: a reply is
 * being spoken (the detector then needs the customer to be louder than it).
 */
export function speechStarted(pcm, level, playing) {
  detector.preroll.push(pcm);
  if (detector.preroll.length > PREROLL_FRAMES) detector.preroll.shift();
  if (!state.handsFree || !voiceInput() || state.conn !== "online" || state.thinking) return null;
  const threshold = Math.max(0.015, detector.floor * 3.5) * (playing ? 2.5 : 1);
  if (level > threshold) {
    detector.hot += 1;
  } else {
    detector.hot = 0;
    detector.floor += (Math.min(level, detector.floor * 4) - detector.floor) * 0.05;
    detector.floor = Math.max(0.001, detector.floor);
  }
  if (detector.hot >= 2 && performance.now() > detector.armedAt) {
    detector.hot = 0;
    const frames = detector.preroll;
    detector.preroll = [];
    return frames;
  }
  return null;
}

/** After an utterance: not again for a moment (the tail of the customer's own voice). */
export function rearm() {
  detector.armedAt = performance.now() + 600;
  detector.hot = 0;
}
