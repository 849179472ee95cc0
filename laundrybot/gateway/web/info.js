// kiosk.json: the shop's name, contact and quick questions, kept for the offline screen.

import { params } from "./params.js";
import { INFO_KEY, pickLang, state } from "./state.js";
import { render } from "./view.js";

export async function fetchInfo() {
  try {
    const url = new URL("kiosk.json", location.href);
    if (params.token) url.searchParams.set("token", params.token); // when tokens are configured
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) return;
    state.info = await response.json();
    try {
      localStorage.setItem(INFO_KEY, JSON.stringify(state.info));
    } catch {
      // private mode or full: the copy in memory is enough
    }
    if (!state.lang) state.lang = pickLang(params.lang);
    render();
  } catch {
    // the gateway is away: keep what we have
  }
}
