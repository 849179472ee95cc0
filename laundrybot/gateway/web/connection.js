// The kiosk's link to the gateway: one WebSocket at a time, reconnected forever.
//
// Every (re)connection opens a NEW WebSocket and says hello {kiosk, token?, lang, resume}: the
// gateway gives the conversation back within its resume window. Retries wait 1 s doubling to
// 30 s with ±20 % jitter and never give up. A ping every 20 s keeps the connection (the gateway
// closes idle ones) and finds a dead one that TCP has not noticed yet.
//
// A question is watched more closely: with no word from the gateway ANSWER_CHECK ms after it,
// a ping must be answered within QUICK_PONG ms, or the gateway process is taken for hung (two
// gateway peers share the port: while one hangs, the other accepts). The page then reconnects
// at once, resumes the session (on either peer) and asks the question once more.

export const BACKOFF_FIRST = 1000;
export const BACKOFF_CAP = 30000;
export const BACKOFF_JITTER = 0.2;
const PING_EVERY = 20000;
const PONG_WITHIN = 10000;
const OPEN_TIMEOUT = 10000;
export const ANSWER_CHECK = 800;
export const QUICK_PONG = 700;

export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** attempt);
  return Math.round(base * (1 + BACKOFF_JITTER * (2 * random() - 1)));
}

export class Connection {
  /**
   * @param {object} options  url, kiosk, token, lang; handlers: onmessage(msg), onaudio(buf),
   *   onstate(state, info) with state "connecting" | "online" | "reconnecting".
   */
  constructor(options) {
    this.url = options.url;
    this.kiosk = options.kiosk;
    this.token = options.token || null;
    this.lang = options.lang || null;
    this.onmessage = options.onmessage || (() => {});
    this.onaudio = options.onaudio || (() => {});
    this.onstate = options.onstate || (() => {});
    this.ws = null;
    this.session = null;
    this.resumeToken = null; // the secret welcome gave: needed with the session to resume
    this.state = "connecting";
    this.attempt = 0;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.openTimer = 0;
    this.pingId = 0;
    this.answerTimer = 0;
    this.pending = null; // the typed question not answered yet: asked again after a failover
    this.asked = 0; // times the pending question was sent
    this.downSince = null;
    this.stats = {
      connects: 0,
      welcomes: 0,
      resumed: 0,
      closes: 0,
      retries: 0,
      lastDelay: 0,
      failovers: 0,
      reasked: 0,
    };
  }

  get online() {
    return this.state === "online";
  }

  start() {
    this.open();
  }

  /** Send a JSON message; false when there is no live connection (the caller says so). */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.state !== "online") return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Send a typed question and watch for its answer (see ANSWER_CHECK); false when offline. */
  ask(message) {
    if (!this.send(message)) return false;
    this.pending = message;
    this.asked = 1;
    this.watchAnswer();
    return true;
  }

  watchAnswer() {
    clearTimeout(this.answerTimer);
    const ws = this.ws;
    this.answerTimer = setTimeout(() => {
      if (this.ws === ws && this.pending) this.ping(QUICK_PONG);
    }, ANSWER_CHECK);
  }

  /** Any message is a sign of life: the checks waiting for one stand down. */
  heard(message) {
    clearTimeout(this.answerTimer);
    clearTimeout(this.pongTimer);
    if (message.type === "reply" || message.type === "error") this.pending = null;
    else if (this.pending) this.watchAnswer(); // e.g. a status push: still no answer
  }

  sendBinary(buffer) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.state !== "online") return false;
    this.ws.send(buffer);
    return true;
  }

  /** Say hello again on a fresh connection, e.g. in another language (quietly, no backoff). */
  rehello({ lang, fresh = false } = {}) {
    if (lang) this.lang = lang;
    if (fresh) this.session = this.resumeToken = null;
    this.pending = null; // a language switch is a new start, not a failover
    this.drop(4000, "switching");
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.open(true);
  }

  open(quiet = false) {
    clearTimeout(this.retryTimer);
    this.stats.connects += 1;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this.lost(`cannot connect: ${error.message}`);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    if (!quiet && this.state !== "reconnecting") this.setState("connecting");
    this.openTimer = setTimeout(() => {
      if (this.ws === ws && this.state !== "online") this.drop(4001, "no welcome in time");
    }, OPEN_TIMEOUT);
    ws.onopen = () => {
      const hello = { type: "hello", kiosk: this.kiosk };
      if (this.token) hello.token = this.token;
      if (this.lang) hello.lang = this.lang;
      if (this.session && this.resumeToken) {
        hello.resume = this.session;
        hello.resume_token = this.resumeToken;
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      if (typeof event.data !== "string") {
        this.onaudio(event.data);
        return;
      }
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not ours to crash on
      }
      this.heard(message);
      if (message.type === "welcome") this.welcomed(message);
      this.onmessage(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.stats.closes += 1;
      // Closed under a question (a gateway peer killed or restarted): the other one is
      // likely there, so try at once and ask again.
      const why = `closed (${event.code}${event.reason ? " " + event.reason : ""})`;
      this.lost(why, event.code, Boolean(this.pending));
    };
    // onerror is always followed by onclose; the browser logs the failure itself.
    ws.onerror = () => {};
  }

  welcomed(message) {
    clearTimeout(this.openTimer);
    const resumed = Boolean(message.resumed);
    this.session = message.session;
    this.resumeToken = message.resume_token || null;
    this.lang = message.lang || this.lang;
    this.attempt = 0;
    this.stats.welcomes += 1;
    if (resumed) this.stats.resumed += 1;
    const away = this.downSince === null ? 0 : Date.now() - this.downSince;
    this.downSince = null;
    this.setState("online", { resumed, away });
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), PING_EVERY);
    if (this.pending && this.asked < 2) {
      // Asked on a gateway that stopped answering: once more here (and only once).
      this.asked += 1;
      this.stats.reasked += 1;
      this.ws.send(JSON.stringify(this.pending));
      this.watchAnswer();
    } else {
      this.pending = null;
    }
  }

  ping(within = PONG_WITHIN) {
    if (!this.send({ type: "ping", id: ++this.pingId })) return;
    clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.pongTimer = setTimeout(() => {
      if (this.ws !== ws) return;
      // A hung gateway: the other peer is likely accepting, so try again at once.
      this.stats.failovers += 1;
      this.drop(4002, "no pong", true);
    }, within);
  }

  /** Close the current socket without waiting for its close handshake. */
  drop(code, reason, now = false) {
    const ws = this.ws;
    this.ws = null;
    this.stopTimers();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
      if (code !== 4000) this.lost(reason, 0, now);
    }
  }

  stopTimers() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.openTimer);
    clearTimeout(this.answerTimer);
  }

  lost(why, code = 0, now = false) {
    this.ws = null;
    this.stopTimers();
    if (this.downSince === null) this.downSince = Date.now();
    // At once only for the first try after a hang: if that fails too, back off as usual.
    const delay = now && this.attempt === 0 ? 0 : backoffDelay(this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.stats.retries += 1;
    this.stats.lastDelay = delay;
    this.setState("reconnecting", { why, code, delay, since: this.downSince });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  setState(state, info = {}) {
    this.state = state;
    this.onstate(state, info);
  }
}
