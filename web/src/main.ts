import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { i18n, loadLocale, type Locale } from './i18n'
import { registerServiceWorker } from './offline/register'
import { router } from './router'

document.documentElement.lang = i18n.global.locale.value
// A user who chose English gets it from the first paint: its messages come before the app mounts.
void loadLocale(i18n.global.locale.value as Locale).finally(() => {
  createApp(App).use(createPinia()).use(i18n).use(router).mount('#app')
})
registerServiceWorker()
