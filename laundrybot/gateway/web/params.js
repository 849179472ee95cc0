// What the page's URL asks for. Query: kiosk=NAME (default "kiosk"), token=..., lang=xx (else
// the shop's default), handsfree=1, and for tests and demos attract=SECONDS (idle time before
// the attract loop) and offline=SECONDS (time away before the offline screen).

const query = new URLSearchParams(location.search);
const KIOSK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const seconds = (name, fallback) => {
  const value = Number.parseFloat(query.get(name) || "");
  return Number.isFinite(value) && value > 0 ? value * 1000 : fallback;
};

export const params = Object.freeze({
  kiosk: KIOSK_ID.test(query.get("kiosk") || "") ? query.get("kiosk") : "kiosk",
  token: query.get("token"),
  lang: query.get("lang"), // null when not asked for
  handsfree: query.get("handsfree"), // "1" to start hands-free; null when not asked for
  attractAfter: seconds("attract", 60000), // ms
  offlineAfter: seconds("offline", 10000), // ms
});
