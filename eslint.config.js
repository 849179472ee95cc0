// ESLint (flat config) for the kiosk page's JavaScript: `npm ci`, then
// `npx eslint laundrybot/gateway/web`. The page is native ES modules in the browser;
// mic-worklet.js runs in the AudioWorklet global scope.

import js from "@eslint/js";
import globals from "globals";

const WEB = "laundrybot/gateway/web";
const WORKLET = `${WEB}/mic-worklet.js`;

const checks = {
  ...js.configs.recommended.rules,
  "no-undef": "error",
  "no-unused-vars": ["error", { args: "after-used", caughtErrors: "all" }],
  "no-implicit-globals": "error",
};

export default [
  { ignores: ["node_modules/"] },
  {
    files: [`${WEB}/**/*.js`],
    ignores: [WORKLET],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: checks,
  },
  {
    files: [WORKLET],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.audioWorklet },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: checks,
  },
];
