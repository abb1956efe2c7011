// ESLint with @antfu/eslint-config. Its stylistic rules are off, and so are the rules that only
// choose between two equal ways of writing (import order, `type` or `interface`, where a `<div>`'s
// text sits): the code keeps the style it has, and `eslint --fix` changes only what a rule about
// correctness asks for, so that branches developed in parallel do not conflict over formatting.
import antfu from '@antfu/eslint-config'

export default antfu(
  {
    stylistic: false,
    typescript: true,
    vue: true,
    jsonc: false,
    yaml: false,
    markdown: false,
    ignores: ['web/dist/**', 'data/**', 'tests/.artifacts/**', 'server/schemas/openapi.json', 'scripts/patches/**'],
  },
  {
    rules: {
      'perfectionist/sort-imports': 'off',
      'perfectionist/sort-named-imports': 'off',
      'import/consistent-type-specifier-style': 'off',
      'ts/consistent-type-definitions': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/first-attribute-linebreak': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/define-macros-order': 'off',
      'unicorn/escape-case': 'off',
      'regexp/use-ignore-case': 'off',
      'test/prefer-lowercase-title': 'off',
      // Buffer and process are Node's globals here; importing them would change no behaviour.
      'node/prefer-global/buffer': 'off',
      'node/prefer-global/process': 'off',
      // ES modules: the launcher, the scripts and the workers await at the top level by design.
      'antfu/no-top-level-await': 'off',
      // Helpers are defined below the functions that call them, which run later.
      'ts/no-use-before-define': ['error', { functions: false, classes: false, variables: false }],
      // A flag set by a callback or another task (a timer, a stop signal) ends these loops.
      'no-unmodified-loop-condition': 'off',
    },
  },
  {
    // A component's plain <script> (exported types) and its <script setup> are read as one module,
    // so the second block's imports look misplaced.
    files: ['**/*.vue'],
    rules: { 'import/first': 'off' },
  },
  {
    // Command-line programs print what they do.
    files: ['server/server.ts', 'scripts/**', 'tests/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Browser tests read the text as shown (innerText), and fuzzing feeds odd literals on purpose.
    files: ['tests/**'],
    rules: {
      'unicorn/prefer-dom-node-text-content': 'off',
      'no-template-curly-in-string': 'off',
      'no-loss-of-precision': 'off',
      // Tests match messages loosely: groups and word boundaries there are for the reader.
      'regexp/no-unused-capturing-group': 'off',
      'regexp/no-contradiction-with-assertion': 'off',
    },
  },
)
