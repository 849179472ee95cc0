// The page's three parts, one of each: the sound, the attendant and the link to the gateway.
// kiosk.js gives the connection its handlers before starting it.

import { Audio } from "./audio.js";
import { Character } from "./character.js";
import { Connection } from "./connection.js";
import { params } from "./params.js";
import { stats } from "./state.js";

export const audio = new Audio(stats);

export const character = new Character(document.getElementById("bot"));
character.levelSource = () => (audio.player ? audio.player.level() : 0);

const wsUrl = new URL("kiosk", location.href);
wsUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
wsUrl.search = "";

export const connection = new Connection({
  url: wsUrl.href,
  kiosk: params.kiosk,
  token: params.token,
  lang: params.lang || null,
});
