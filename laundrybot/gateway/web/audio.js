// Audio for the kiosk: one AudioContext, the reply player and the microphone.
//
// The player schedules each PCM chunk of a spoken reply back to back as it arrives (gap-free),
// through an analyser whose loudness moves the character's mouth. The microphone runs
// mic-worklet.js, which resamples to 16 kHz and posts 100 ms s16le frames with their level.

export class Audio {
  constructor(stats) {
    this.stats = stats;
    this.ctx = null;
    this.player = null;
    this.mic = null;
    this.onstatechange = () => {};
  }

  /** Create (or wake) the AudioContext; call it from a user gesture where browsers need one. */
  async start() {
    if (!this.ctx) {
      this.ctx = new AudioContext({ latencyHint: "interactive" });
      this.player = new Player(this.ctx, this.stats);
      this.mic = new Microphone(this.ctx);
      this.ctx.addEventListener("statechange", () => this.onstatechange(this.running));
    }
    if (this.ctx.state !== "running") {
      // Without a gesture the browser leaves resume() pending: do not wait for it forever.
      const resumed = this.ctx.resume().catch(() => {});
      await Promise.race([resumed, new Promise((resolve) => setTimeout(resolve, 400))]);
    }
    return this.running;
  }

  get running() {
    return this.ctx !== null && this.ctx.state === "running";
  }
}

export class Player {
  constructor(ctx, stats) {
    this.ctx = ctx;
    this.stats = stats;
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.analyser.smoothingTimeConstant = 0.3;
    this.analyser.connect(ctx.destination);
    this.samples = new Float32Array(this.analyser.fftSize);
    this.sources = new Set();
    this.format = null;
    this.turn = null;
    this.nextTime = 0;
    this.streaming = false; // between audio-start and audio-stop
    this.dropTurn = null; // a turn that was interrupted: its late frames are dropped
    this.onidle = () => {};
  }

  get playing() {
    return this.sources.size > 0 || this.streaming;
  }

  begin(message) {
    if (this.turn !== message.turn) this.stopSources();
    this.turn = message.turn;
    this.format = { rate: message.rate, width: message.width, channels: message.channels };
    this.streaming = true;
    this.dropTurn = null;
  }

  /** One binary frame of the reply: s16le, interleaved if there are several channels. */
  chunk(data) {
    this.stats.audioChunksReceived += 1;
    if (!this.streaming || this.format === null || this.format.width !== 2) {
      this.stats.audioChunksDropped += 1;
      return;
    }
    const { rate, channels } = this.format;
    const pcm = new Int16Array(data, 0, Math.floor(data.byteLength / 2));
    const frames = Math.floor(pcm.length / channels);
    if (frames === 0) return;
    const buffer = this.ctx.createBuffer(channels, frames, rate);
    for (let c = 0; c < channels; c++) {
      const out = buffer.getChannelData(c);
      for (let i = 0; i < frames; i++) out[i] = pcm[i * channels + c] / 32768;
    }
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.analyser);
    // Back to back; after a gap (the network was slower than speech), start a little ahead.
    const now = this.ctx.currentTime;
    if (this.nextTime < now + 0.02) this.nextTime = now + 0.06;
    source.start(this.nextTime);
    this.nextTime += buffer.duration;
    this.sources.add(source);
    this.stats.audioChunksScheduled += 1;
    source.onended = () => {
      if (!this.sources.delete(source)) return; // stopped by an interrupt
      this.stats.audioChunksPlayed += 1;
      this.stats.audioSecondsPlayed += buffer.duration;
      if (!this.playing) this.onidle();
    };
  }

  end(message) {
    if (message.turn !== this.turn) return;
    this.streaming = false;
    if (!this.playing) this.onidle();
  }

  /** Stop at once (barge-in); frames of this turn still on the way are dropped. */
  interrupt() {
    const was = this.playing;
    this.dropTurn = this.turn;
    this.streaming = false;
    this.stopSources();
    if (was) this.onidle();
    return was;
  }

  stopSources() {
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        // never started: nothing to stop
      }
    }
    this.sources.clear();
    this.nextTime = 0;
  }

  /** Loudness of what is playing now, 0..1, for the mouth. */
  level() {
    if (this.sources.size === 0) return 0;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const s of this.samples) sum += s * s;
    return Math.sqrt(sum / this.samples.length);
  }
}

export class Microphone {
  constructor(ctx) {
    this.ctx = ctx;
    this.stream = null;
    this.node = null;
    this.opening = null;
    this.onframe = () => {};
  }

  get open() {
    return this.node !== null;
  }

  /** Ask for the microphone once and keep it; nothing leaves the page unless listening. */
  async ensure() {
    if (this.node) return;
    if (!this.opening) this.opening = this._open();
    try {
      await this.opening;
    } finally {
      this.opening = null;
    }
  }

  async _open() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("this browser has no microphone access here (it needs http://localhost or https)");
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        echoCancellation: true, // the attendant's own voice from the speaker
        noiseSuppression: false, // the gateway filters machine rumble itself
        autoGainControl: true,
      },
    });
    await this.ctx.audioWorklet.addModule(new URL("./mic-worklet.js", import.meta.url));
    const source = this.ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(this.ctx, "laundrybot-mic", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: "explicit",
    });
    node.port.onmessage = (event) => this.onframe(event.data.pcm, event.data.level);
    // Keep the worklet pulled by the graph without making a sound.
    const mute = this.ctx.createGain();
    mute.gain.value = 0;
    source.connect(node).connect(mute).connect(this.ctx.destination);
    this.stream = stream;
    this.node = node;
    for (const track of stream.getAudioTracks()) {
      track.onended = () => this.close();
    }
  }

  close() {
    if (this.node) this.node.disconnect();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.node = null;
    this.stream = null;
  }
}
