// The attendant: a friendly washing machine whose porthole is its face (inline SVG in index.html).
//
// Expressions (from `reply.expression`): neutral, happy, thinking, apologetic, concerned, plus
// the page's own listening. Every feature eases towards its expression's target each frame, so
// changes are smooth; on top of that: breathing, blinking, water sloshing, and a mouth that
// opens with the loudness of the reply that is playing.

const EXPRESSIONS = {
  neutral: { browY: 0, browTilt: 0, browAsym: 0, eyeOpen: 1, smile: 0.35, width: 1, cheeks: 0.25, lookX: 0, lookY: 0, tilt: 0 },
  happy: { browY: -7, browTilt: -3, browAsym: 0, eyeOpen: 0.82, smile: 1, width: 1.2, cheeks: 0.85, lookX: 0, lookY: 0, tilt: -2 },
  thinking: { browY: -3, browTilt: 0, browAsym: 9, eyeOpen: 0.95, smile: 0.05, width: 0.65, cheeks: 0.15, lookX: 9, lookY: -9, tilt: -3 },
  apologetic: { browY: -2, browTilt: 16, browAsym: 0, eyeOpen: 0.9, smile: -0.3, width: 0.8, cheeks: 0.35, lookX: 0, lookY: 5, tilt: 4 },
  concerned: { browY: -3, browTilt: 11, browAsym: 0, eyeOpen: 1.12, smile: -0.55, width: 0.9, cheeks: 0.1, lookX: 0, lookY: 1, tilt: 0 },
  listening: { browY: -6, browTilt: 0, browAsym: 0, eyeOpen: 1.12, smile: 0.55, width: 0.9, cheeks: 0.35, lookX: 0, lookY: 3, tilt: 5 },
};
export const EXPRESSION_NAMES = Object.keys(EXPRESSIONS);

const MOUTH = { x: 200, y: 300, width: 46 };
const EYES = { left: 166, right: 234, y: 246 };

export class Character {
  constructor(svg) {
    this.svg = svg;
    this.el = (id) => svg.querySelector(`#${id}`);
    this.parts = {
      body: this.el("bot-body"),
      face: this.el("bot-face"),
      eyeL: this.el("eye-l"),
      eyeR: this.el("eye-r"),
      browL: this.el("brow-l"),
      browR: this.el("brow-r"),
      cheekL: this.el("cheek-l"),
      cheekR: this.el("cheek-r"),
      mouth: this.el("mouth"),
      tongue: this.el("tongue"),
      water: this.el("water"),
      armR: this.el("arm-r"),
      armL: this.el("arm-l"),
      shadow: this.el("bot-shadow"),
      ring: this.el("listen-ring"),
    };
    this.name = "neutral";
    this.target = { ...EXPRESSIONS.neutral };
    this.now = { ...EXPRESSIONS.neutral };
    this.open = 0; // mouth openness 0..1, eased
    this.maxOpen = 0; // the widest it has been (for tests: the mouth really moved)
    this.levelSource = () => 0; // loudness of the voice being played
    this.fakeTalkUntil = 0; // text-only replies: move the mouth while the subtitle is read
    this.listenLevel = 0;
    this.listening = false;
    this.nextBlink = performance.now() + 2000;
    this.blinkStart = -1;
    this.waveUntil = 0;
    this.start = performance.now();
    this.frame = this.frame.bind(this);
    requestAnimationFrame(this.frame);
  }

  setExpression(name) {
    if (!EXPRESSIONS[name]) name = "neutral";
    this.name = name;
    this.target = { ...EXPRESSIONS[name] };
    this.svg.dataset.expression = name;
  }

  /** Move the mouth for a while without audio (when a reply is shown but not spoken). */
  talkFor(ms) {
    this.fakeTalkUntil = performance.now() + ms;
  }

  stopTalking() {
    this.fakeTalkUntil = 0;
  }

  wave(ms = 1600) {
    this.waveUntil = performance.now() + ms;
  }

  setListening(on, level = 0) {
    this.listening = on;
    this.listenLevel = on ? level : 0;
  }

  frame(t) {
    requestAnimationFrame(this.frame);
    const seconds = (t - this.start) / 1000;
    const k = 0.14; // easing per frame
    for (const key of Object.keys(this.target)) {
      this.now[key] += (this.target[key] - this.now[key]) * k;
    }
    const e = this.now;

    // Breathing and a gentle sway; the whole machine leans with the expression's tilt.
    const bob = Math.sin(seconds * 1.7) * 5;
    const sway = Math.sin(seconds * 0.6) * 1.2 + e.tilt;
    this.parts.body.setAttribute("transform", `translate(0 ${bob.toFixed(2)}) rotate(${sway.toFixed(2)} 200 420)`);
    this.parts.shadow.setAttribute("rx", (120 - bob * 1.5).toFixed(1));

    // Water sloshing inside the porthole.
    const slosh = Math.sin(seconds * 1.3) * 18;
    this.parts.water.setAttribute("transform", `translate(${(slosh - 40).toFixed(1)} ${(Math.sin(seconds * 2.1) * 3).toFixed(1)})`);

    // Blinking at random intervals.
    if (t > this.nextBlink && this.blinkStart < 0) this.blinkStart = t;
    let blink = 1;
    if (this.blinkStart >= 0) {
      const p = (t - this.blinkStart) / 160;
      if (p >= 1) {
        this.blinkStart = -1;
        this.nextBlink = t + 2200 + Math.random() * 4200;
      } else {
        blink = Math.abs(1 - 2 * p);
      }
    }
    const eyeScale = Math.max(0.08, e.eyeOpen * blink);
    for (const [eye, x] of [[this.parts.eyeL, EYES.left], [this.parts.eyeR, EYES.right]]) {
      eye.setAttribute(
        "transform",
        `translate(${(x + e.lookX).toFixed(2)} ${(EYES.y + e.lookY).toFixed(2)}) scale(1 ${eyeScale.toFixed(3)})`,
      );
    }
    // Brows: height, inner-end tilt (worry), and one raised more (thinking).
    const by = EYES.y - 30 + e.browY + e.lookY * 0.4;
    this.parts.browL.setAttribute("transform", `translate(${EYES.left + e.lookX * 0.5} ${by.toFixed(2)}) rotate(${(-e.browTilt).toFixed(2)})`);
    this.parts.browR.setAttribute("transform", `translate(${EYES.right + e.lookX * 0.5} ${(by - e.browAsym).toFixed(2)}) rotate(${e.browTilt.toFixed(2)})`);
    this.parts.cheekL.setAttribute("opacity", e.cheeks.toFixed(2));
    this.parts.cheekR.setAttribute("opacity", e.cheeks.toFixed(2));

    // Mouth: loudness of the voice, or a gentle chatter while a text-only reply is shown.
    let wanted = Math.min(1, Math.max(0, (this.levelSource() - 0.012) * 7));
    if (t < this.fakeTalkUntil) wanted = Math.max(wanted, 0.25 + 0.3 * Math.abs(Math.sin(seconds * 11) * Math.sin(seconds * 3.7)));
    this.open += (wanted - this.open) * (wanted > this.open ? 0.5 : 0.25);
    this.maxOpen = Math.max(this.maxOpen, this.open);
    this.drawMouth(e);

    // Waving hello (attract loop, welcome) and a small idle arm swing.
    const waving = t < this.waveUntil;
    const armR = waving ? -110 + Math.sin(seconds * 9) * 22 : Math.sin(seconds * 1.7 + 1) * 4;
    this.parts.armR.setAttribute("transform", `rotate(${armR.toFixed(1)} 340 250)`);
    this.parts.armL.setAttribute("transform", `rotate(${(Math.sin(seconds * 1.7) * -4).toFixed(1)} 60 250)`);

    // The listening ring pulses with the microphone level.
    const ring = this.listening ? 0.35 + Math.min(0.65, this.listenLevel * 12) : 0;
    this.parts.ring.setAttribute("opacity", ring.toFixed(2));
    this.parts.ring.setAttribute("stroke-width", (6 + Math.min(14, this.listenLevel * 260)).toFixed(1));
  }

  drawMouth(e) {
    const w = (MOUTH.width * e.width) / 2;
    const x0 = MOUTH.x - w + e.lookX * 0.3;
    const x1 = MOUTH.x + w + e.lookX * 0.3;
    const cx = (x0 + x1) / 2;
    const open = this.open;
    const corner = MOUTH.y - e.smile * 7 - open * 2;
    const upper = MOUTH.y + e.smile * 9 - open * 5;
    const lower = MOUTH.y + e.smile * 11 + 2 + open * 40;
    const d = `M ${x0.toFixed(1)} ${corner.toFixed(1)} Q ${cx.toFixed(1)} ${upper.toFixed(1)} ${x1.toFixed(1)} ${corner.toFixed(1)} Q ${cx.toFixed(1)} ${lower.toFixed(1)} ${x0.toFixed(1)} ${corner.toFixed(1)} Z`;
    this.parts.mouth.setAttribute("d", d);
    this.parts.tongue.setAttribute("opacity", open > 0.25 ? Math.min(1, (open - 0.25) * 3).toFixed(2) : "0");
    this.parts.tongue.setAttribute("cy", ((upper + lower) / 2 + open * 8).toFixed(1));
    this.parts.tongue.setAttribute("cx", cx.toFixed(1));
    this.svg.dataset.mouth = open.toFixed(2);
  }
}
