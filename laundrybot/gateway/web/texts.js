// The page's words in each language it speaks. Missing keys fall back to English, then to the
// key itself; "{name}" in a text is filled from vars.

export const TEXT = {
  en: {
    connecting: "Connecting…",
    online: "Ready to help",
    reconnecting: "Reconnecting…",
    offline: "Offline",
    greeting: "Hi! Tap a question, or just ask me.",
    attract: "Try asking: “{q}”",
    you: "You:",
    listeningHint: "Listening…",
    mic: "Tap to talk",
    micListening: "Listening – tap when done",
    handsfree: "Hands-free",
    placeholder: "Type your question…",
    send: "Send",
    didNotCatch: "Sorry, I didn’t catch that. Please try again, or type your question.",
    voiceInputOff: "Voice input unavailable, please type.",
    voiceOutputOff: "Answers are shown as text: the voice is resting.",
    voiceBoth: "Voice unavailable: please type, and read the answer here.",
    micDenied: "The microphone is not available here, please type.",
    notConnected: "Reconnecting… please ask again in a moment.",
    failed: "Sorry, something went wrong. Please try again.",
    offlineTitle: "The attendant is taking a short break",
    offlineText: "It will be back by itself in a moment. For urgent help, please call the staff:",
    retryIn: "Trying again in {s} s",
    retrying: "Trying again now…",
    startTitle: "Tap to start",
    startText: "One tap switches on the attendant’s voice.",
  },
  ko: {
    connecting: "연결 중…",
    online: "무엇이든 물어보세요",
    reconnecting: "다시 연결하는 중…",
    offline: "연결 끊김",
    greeting: "안녕하세요! 버튼을 누르거나 저에게 말로 물어보세요.",
    attract: "이렇게 물어보세요: “{q}”",
    you: "나:",
    listeningHint: "듣고 있어요…",
    mic: "눌러서 말하기",
    micListening: "듣는 중 – 다 말하면 누르세요",
    handsfree: "핸즈프리",
    placeholder: "질문을 입력하세요…",
    send: "보내기",
    didNotCatch: "잘 못 들었어요. 다시 말씀해 주시거나 입력해 주세요.",
    voiceInputOff: "음성 입력을 쓸 수 없어요. 글로 입력해 주세요.",
    voiceOutputOff: "답변은 화면에 글로 보여 드려요.",
    voiceBoth: "음성을 쓸 수 없어요. 글로 입력하고 화면에서 답을 읽어 주세요.",
    micDenied: "마이크를 쓸 수 없어요. 글로 입력해 주세요.",
    notConnected: "다시 연결하는 중이에요. 잠시 후 다시 물어봐 주세요.",
    failed: "죄송해요, 문제가 생겼어요. 다시 해 주세요.",
    offlineTitle: "안내원이 잠시 쉬고 있어요",
    offlineText: "곧 저절로 돌아와요. 급한 일은 직원에게 전화해 주세요:",
    retryIn: "{s}초 뒤에 다시 연결해요",
    retrying: "다시 연결하는 중…",
    startTitle: "화면을 눌러 시작하세요",
    startText: "한 번 누르면 안내원의 목소리가 켜져요.",
  },
};

/** The text for ``key`` in ``lang`` with its {placeholders} filled in. */
export function translate(lang, key, vars = {}) {
  const table = TEXT[lang] || TEXT.en;
  let text = table[key] ?? TEXT.en[key] ?? key;
  for (const [name, value] of Object.entries(vars)) text = text.replace(`{${name}}`, value);
  return text;
}
