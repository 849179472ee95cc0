// Hangul composition for the on-screen 2-set (두벌식) keyboard: jamo in, syllables out.
//
// The syllable being typed is kept as the keys that made it (e.g. ㅇ ㅓ ㄹ ㅁ for 얾), so a
// backspace takes back exactly the last jamo and a vowel after a final consonant takes that
// consonant over into the next syllable (얾 + ㅏ -> 얼마). Everything before it is plain text.
// No DOM here: `node --test tests/js` runs its tests.

// Unicode's order of the initial, medial and final jamo in the syllable block U+AC00-U+D7A3.
const INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ";
const MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ";
const FINALS = [
  "", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ",
  "ㅁ", "ㅂ", "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ",
];
const SYLLABLE_BASE = 0xac00;

// Two keys typed one after the other that make one vowel, or one final consonant.
const VOWEL_PAIRS = {
  "ㅗㅏ": "ㅘ", "ㅗㅐ": "ㅙ", "ㅗㅣ": "ㅚ", "ㅜㅓ": "ㅝ", "ㅜㅔ": "ㅞ", "ㅜㅣ": "ㅟ", "ㅡㅣ": "ㅢ",
};
const FINAL_PAIRS = {
  "ㄱㅅ": "ㄳ", "ㄴㅈ": "ㄵ", "ㄴㅎ": "ㄶ", "ㄹㄱ": "ㄺ", "ㄹㅁ": "ㄻ", "ㄹㅂ": "ㄼ", "ㄹㅅ": "ㄽ",
  "ㄹㅌ": "ㄾ", "ㄹㅍ": "ㄿ", "ㄹㅎ": "ㅀ", "ㅂㅅ": "ㅄ",
};

export const isConsonant = (key) => INITIALS.includes(key);
export const isVowel = (key) => MEDIALS.includes(key);
export const isJamo = (key) => typeof key === "string" && key.length === 1 && (isConsonant(key) || isVowel(key));

/** The keys of one syllable, as {initial, medial: [keys], final: [keys]}. */
function parse(keys) {
  const block = { initial: null, medial: [], final: [] };
  let i = 0;
  if (keys.length && isConsonant(keys[0])) block.initial = keys[i++];
  while (i < keys.length && isVowel(keys[i])) block.medial.push(keys[i++]);
  while (i < keys.length) block.final.push(keys[i++]);
  return block;
}

const vowelOf = (medial) => (medial.length === 2 ? VOWEL_PAIRS[medial.join("")] : medial[0]);
const finalOf = (final) => (final.length === 2 ? FINAL_PAIRS[final.join("")] : final[0] || "");

/** The text of one syllable's keys: a precomposed syllable, or a lone jamo. */
export function syllable(keys) {
  if (!keys.length) return "";
  const block = parse(keys);
  const vowel = block.medial.length ? vowelOf(block.medial) : null;
  if (block.initial && vowel) {
    const code =
      SYLLABLE_BASE +
      (INITIALS.indexOf(block.initial) * MEDIALS.length + MEDIALS.indexOf(vowel)) * FINALS.length +
      FINALS.indexOf(finalOf(block.final));
    return String.fromCharCode(code);
  }
  return block.initial || vowel;
}

/** Can ``key`` go on the syllable typed so far (else it starts the next one)? */
function joins(keys, key) {
  if (!keys.length) return false;
  const block = parse(keys);
  if (isVowel(key)) {
    if (block.final.length) return false; // the final moves over: handled by the caller
    if (!block.medial.length) return block.initial !== null; // ㄱ + ㅏ
    return block.medial.length === 1 && Boolean(VOWEL_PAIRS[block.medial[0] + key]);
  }
  if (!block.initial || !block.medial.length) return false; // no vowel yet: ㄱ ㄱ stays two
  if (block.final.length === 0) return FINALS.includes(key); // ㄸ ㅃ ㅉ are never finals
  return block.final.length === 1 && Boolean(FINAL_PAIRS[block.final[0] + key]);
}

export class HangulComposer {
  constructor(text = "") {
    this.text = text; // what comes before the syllable being typed
    this.keys = []; // the keys of the syllable being typed
  }

  /** The whole text, the syllable being typed included. */
  get value() {
    return this.text + syllable(this.keys);
  }

  /** Start again from ``text`` (e.g. what the question field holds). */
  reset(text = "") {
    this.text = text;
    this.keys = [];
  }

  /** Finish the syllable being typed. */
  commit() {
    this.text = this.value;
    this.keys = [];
  }

  /** Type one key: a jamo composes, anything else (a letter, digit, space, "?") is appended. */
  type(key) {
    if (!isJamo(key)) {
      this.commit();
      this.text += key;
      return this.value;
    }
    if (joins(this.keys, key)) {
      this.keys.push(key);
    } else if (isVowel(key) && this.keys.length && parse(this.keys).final.length) {
      // 각 + ㅏ -> 가가, 얾 + ㅏ -> 얼마: the last final starts the next syllable.
      const moved = this.keys.pop();
      this.commit();
      this.keys = [moved, key];
    } else {
      this.commit();
      this.keys = [key];
    }
    return this.value;
  }

  /** Take back the last jamo of the syllable being typed, else the last character. */
  backspace() {
    if (this.keys.length) this.keys.pop();
    else this.text = Array.from(this.text).slice(0, -1).join("");
    return this.value;
  }
}

/** Type a sequence of keys ("⌫" is a backspace) from empty; the text they make. */
export function typeKeys(keys) {
  const composer = new HangulComposer();
  for (const key of keys) {
    if (key === "⌫") composer.backspace();
    else composer.type(key);
  }
  return composer.value;
}
