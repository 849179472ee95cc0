// The kiosk page's link (laundrybot/gateway/web/connection.js) against a scripted WebSocket:
// a question on a gateway that stopped answering is asked again on a fresh connection, at
// once, resuming the session; a gateway that is only slow keeps its question.
// `node --test tests/js` (no packages needed; real timers, about 5 s).

import assert from "node:assert/strict";
import { test } from "node:test";

import { ANSWER_CHECK, Connection, QUICK_PONG } from "../../laundrybot/gateway/web/connection.js";

const sockets = [];

class ScriptedSocket {
  static OPEN = 1;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closed = null;
    sockets.push(this);
    setTimeout(() => {
      this.readyState = ScriptedSocket.OPEN;
      this.onopen?.();
    }, 1);
  }
  send(data) {
    this.sent.push(JSON.parse(data));
  }
  close(code) {
    this.closed = code;
    this.readyState = 3;
  }
  // What the gateway says.
  say(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  welcome(session = "s1", token = "t1") {
    this.say({ type: "welcome", session, resume_token: token, resumed: true });
  }
}
globalThis.WebSocket = ScriptedSocket;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function online() {
  sockets.length = 0;
  const connection = new Connection({ url: "ws://gateway/kiosk", kiosk: "front" });
  connection.start();
  await sleep(5);
  sockets[0].welcome();
  assert.equal(connection.state, "online");
  return connection;
}

function stop(connection) {
  connection.drop(4000, "test over");
  connection.stopTimers();
  clearTimeout(connection.retryTimer);
}

test("a question on a hung gateway is asked again at once on a fresh connection", async (t) => {
  const connection = await online();
  t.after(() => stop(connection));
  const hung = sockets[0];
  assert.ok(connection.ask({ type: "text", text: "how much is a wash" }));
  await sleep(ANSWER_CHECK + 50);
  assert.equal(hung.sent.at(-1).type, "ping"); // the quick check
  await sleep(QUICK_PONG + 50);
  assert.equal(hung.closed, 4002);
  assert.equal(sockets.length, 2, "reconnected without a backoff wait");
  const fresh = sockets[1];
  await sleep(5);
  const hello = fresh.sent[0];
  assert.deepEqual([hello.type, hello.resume, hello.resume_token], ["hello", "s1", "t1"]);
  fresh.welcome("s1", "t2");
  assert.deepEqual(fresh.sent[1], { type: "text", text: "how much is a wash" });
  assert.equal(connection.stats.failovers, 1);
  assert.equal(connection.stats.reasked, 1);
  fresh.say({ type: "reply", text: "A wash is $3.50." });
  assert.equal(connection.pending, null);
});

test("a gateway that answers the ping keeps the question (slow, not hung)", async (t) => {
  const connection = await online();
  t.after(() => stop(connection));
  const slow = sockets[0];
  connection.ask({ type: "text", text: "is washer 3 free" });
  await sleep(ANSWER_CHECK + 50);
  const ping = slow.sent.at(-1);
  assert.equal(ping.type, "ping");
  slow.say({ type: "pong", id: ping.id });
  await sleep(QUICK_PONG + 100);
  assert.equal(slow.closed, null);
  assert.equal(sockets.length, 1);
  slow.say({ type: "reply", text: "Washer 3 is free." });
  assert.equal(connection.pending, null);
  assert.equal(connection.stats.failovers, 0);
});

test("an answer in time needs no check, and a question is asked again only once", async (t) => {
  const connection = await online();
  t.after(() => stop(connection));
  connection.ask({ type: "text", text: "wifi" });
  sockets[0].say({ type: "reply", text: "The network is Bubbles Guest." });
  await sleep(ANSWER_CHECK + 50);
  assert.deepEqual(
    sockets[0].sent.map((m) => m.type),
    ["hello", "text"],
  );
  // Now the peer hangs, and so does the one the page fails over to.
  connection.ask({ type: "text", text: "hours" });
  await sleep(ANSWER_CHECK + QUICK_PONG + 100);
  assert.equal(sockets.length, 2);
  await sleep(5);
  sockets[1].welcome();
  assert.equal(sockets[1].sent.at(-1).text, "hours");
  await sleep(ANSWER_CHECK + QUICK_PONG + 100);
  assert.equal(sockets[1].closed, 4002);
  assert.equal(sockets.length, 3);
  await sleep(5);
  sockets[2].welcome();
  // Not a third time: the customer sees the reconnect and asks again if they want.
  assert.deepEqual(
    sockets[2].sent.map((m) => m.type),
    ["hello"],
  );
  assert.equal(connection.stats.reasked, 1);
  assert.equal(connection.pending, null);
});

test("a connection closed under a question reconnects at once and asks again", async (t) => {
  const connection = await online();
  t.after(() => stop(connection));
  connection.ask({ type: "text", text: "wifi" });
  sockets[0].onclose({ code: 1006, reason: "" }); // the peer was killed
  assert.equal(connection.stats.lastDelay, 0);
  await sleep(5);
  assert.equal(sockets.length, 2);
  await sleep(5);
  sockets[1].welcome();
  assert.deepEqual(sockets[1].sent.at(-1), { type: "text", text: "wifi" });
});

test("a connection closed while idle backs off as before", async (t) => {
  const connection = await online();
  t.after(() => stop(connection));
  sockets[0].onclose({ code: 1006, reason: "" });
  assert.ok(connection.stats.lastDelay >= 800);
});
