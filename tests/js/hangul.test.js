// The on-screen keyboard's Hangul composer (laundrybot/gateway/web/hangul.js):
// `node --test tests/js` (no packages needed).

import assert from "node:assert/strict";
import { test } from "node:test";

import { HangulComposer, syllable, typeKeys } from "../../laundrybot/gateway/web/hangul.js";

const keys = (text) => Array.from(text);

test("initial + medial + final make one syllable", () => {
  assert.equal(typeKeys(keys("ㅎㅏㄴ")), "한");
  assert.equal(typeKeys(keys("ㄱㅡㄹ")), "글");
  assert.equal(syllable(keys("ㄱㅏ")), "가");
  assert.equal(syllable(keys("ㅎㅣㅎ")), "힣");
});

test("the brief's question, jamo by jamo", () => {
  assert.equal(typeKeys(keys("ㅅㅔㅌㅏㄱㄱㅣ ㅇㅓㄹㅁㅏ")), "세탁기 얼마");
  assert.equal(typeKeys(keys("ㅅㅔㅌㅏㄱㄱㅣ ㅇㅓㄹㅁㅏㅇㅖㅇㅛ?")), "세탁기 얼마예요?");
});

test("a vowel after a final takes the final into the next syllable", () => {
  assert.equal(typeKeys(keys("ㄱㅏㄱㅏ")), "가가");
  assert.equal(typeKeys(keys("ㅇㅓㄹㅁ")), "얾");
  assert.equal(typeKeys(keys("ㅇㅓㄹㅁㅏ")), "얼마");
  assert.equal(typeKeys(keys("ㄷㅏㄹㄱㅇㅣ")), "닭이");
  assert.equal(typeKeys(keys("ㅇㅣㅆㅇㅓㅇㅛ")), "있어요");
});

test("double finals, and pairs that are not one", () => {
  assert.equal(typeKeys(keys("ㄷㅏㄹㄱ")), "닭");
  assert.equal(typeKeys(keys("ㅇㅓㅂㅅ")), "없");
  assert.equal(typeKeys(keys("ㅇㅓㅂㅅㅇㅓ")), "없어");
  assert.equal(typeKeys(keys("ㅇㅏㄴㅎ")), "않");
  assert.equal(typeKeys(keys("ㄱㅏㄱㄱ")), "각ㄱ"); // ㄱㄱ is no final: typed as ㄲ
  assert.equal(typeKeys(keys("ㄱㅏㄲ")), "갂");
  assert.equal(typeKeys(keys("ㄱㅏㄸ")), "가ㄸ"); // ㄸ is never a final
  assert.equal(typeKeys(keys("ㄷㅏㄹㄱㅅ")), "닭ㅅ"); // three do not fit
});

test("double vowels", () => {
  assert.equal(typeKeys(keys("ㄱㅗㅏ")), "과");
  assert.equal(typeKeys(keys("ㅇㅜㅔ")), "웨");
  assert.equal(typeKeys(keys("ㅇㅡㅣ")), "의");
  assert.equal(typeKeys(keys("ㄱㅗㅏㄴ")), "관");
  assert.equal(typeKeys(keys("ㄱㅏㅏ")), "가ㅏ");
  assert.equal(typeKeys(keys("ㅗㅏ")), "ㅘ");
});

test("lone jamo stay as they are", () => {
  assert.equal(typeKeys(keys("ㄱ")), "ㄱ");
  assert.equal(typeKeys(keys("ㄱㄴ")), "ㄱㄴ");
  assert.equal(typeKeys(keys("ㅏㄱ")), "ㅏㄱ");
  assert.equal(typeKeys(keys("ㅋㅋㅋ")), "ㅋㅋㅋ");
});

test("backspace takes back the last jamo, then whole characters", () => {
  assert.equal(typeKeys([..."ㄷㅏㄹㄱ", "⌫"]), "달");
  assert.equal(typeKeys([..."ㄷㅏㄹㄱ", "⌫", "⌫"]), "다");
  assert.equal(typeKeys([..."ㄷㅏㄹㄱ", "⌫", "⌫", "⌫"]), "ㄷ");
  assert.equal(typeKeys([..."ㄷㅏㄹㄱ", "⌫", "⌫", "⌫", "⌫"]), "");
  assert.equal(typeKeys([..."ㄱㅗㅏ", "⌫"]), "고");
  assert.equal(typeKeys([..."ㅇㅓㄹㅁㅏ", "⌫"]), "얼ㅁ");
  assert.equal(typeKeys([..."ㅇㅓㄹㅁㅏ", "⌫", "⌫"]), "얼");
  // After a space the syllable is finished: backspace removes whole characters.
  assert.equal(typeKeys([..."ㅎㅏㄴ ", "⌫", "⌫"]), "");
  assert.equal(typeKeys([..."ㅎㅏㄴ ", "⌫", "ㅇ"]), "한ㅇ");
  assert.equal(typeKeys(["⌫"]), "");
});

test("letters, digits and signs pass through and finish the syllable", () => {
  assert.equal(typeKeys(keys("4ㅂㅓㄴ ㅅㅔㅌㅏㄱㄱㅣ?")), "4번 세탁기?");
  assert.equal(typeKeys(keys("how much?")), "how much?");
  assert.equal(typeKeys(keys("ㄱㅏa")), "가a");
});

test("the composer starts from a text and can be reset", () => {
  const composer = new HangulComposer("세탁 ");
  composer.type("ㄱ");
  assert.equal(composer.value, "세탁 ㄱ");
  composer.type("ㅣ");
  assert.equal(composer.value, "세탁 기");
  composer.commit();
  composer.type("ㅏ");
  assert.equal(composer.value, "세탁 기ㅏ");
  composer.reset("x");
  assert.equal(composer.value, "x");
  composer.backspace();
  assert.equal(composer.value, "");
});
