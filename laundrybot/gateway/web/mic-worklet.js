// The microphone's audio thread: mono mix, low-pass, resample to 16 kHz, s16le frames.
//
// Runs in the AudioWorkletGlobalScope (``sampleRate`` is the context's rate). Each frame of
// FRAME_SAMPLES samples at 16 kHz is posted to the page as an ArrayBuffer of s16le PCM with
// its RMS level (0..1), which the page uses for the level meter and the speech detector.

const OUT_RATE = 16000;
const FRAME_SAMPLES = 1600; // 100 ms: a frame rate the gateway's message limits are happy with

class MicProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / OUT_RATE; // input samples per output sample
    this.pos = 0; // fractional input position of the next output sample, relative to `prev`
    this.prev = 0; // the last filtered input sample of the previous block
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.sumSquares = 0;
    // A second-order low-pass (RBJ biquad) at 7 kHz against aliasing when the input is faster.
    const cutoff = Math.min(7000, sampleRate * 0.45);
    const w = (2 * Math.PI * cutoff) / sampleRate;
    const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
    const cos = Math.cos(w);
    const a0 = 1 + alpha;
    this.b0 = (1 - cos) / 2 / a0;
    this.b1 = (1 - cos) / a0;
    this.b2 = this.b0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
    this.x1 = this.x2 = this.y1 = this.y2 = 0;
    this.filter = this.step > 1.01;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0 || input[0].length === 0) return true;
    const n = input[0].length;
    const mono = new Float32Array(n);
    for (const channel of input) {
      for (let i = 0; i < n; i++) mono[i] += channel[i] / input.length;
    }
    if (this.filter) {
      for (let i = 0; i < n; i++) {
        const x = mono[i];
        const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
        this.x2 = this.x1;
        this.x1 = x;
        this.y2 = this.y1;
        this.y1 = y;
        mono[i] = y;
      }
    }
    // Linear interpolation between input samples; index -1 is the previous block's last one.
    let pos = this.pos;
    while (pos < n - 1) {
      const i = Math.floor(pos);
      const frac = pos - i;
      const a = i < 0 ? this.prev : mono[i];
      const b = mono[i + 1];
      this.push(a + (b - a) * frac);
      pos += this.step;
    }
    this.pos = pos - n;
    this.prev = mono[n - 1];
    return true;
  }

  push(sample) {
    const s = Math.max(-1, Math.min(1, sample));
    this.sumSquares += s * s;
    this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.filled === FRAME_SAMPLES) {
      const pcm = this.frame.buffer;
      const level = Math.sqrt(this.sumSquares / FRAME_SAMPLES);
      this.port.postMessage({ pcm, level }, [pcm]);
      this.frame = new Int16Array(FRAME_SAMPLES);
      this.filled = 0;
      this.sumSquares = 0;
    }
  }
}

registerProcessor("laundrybot-mic", MicProcessor);
