import { createI18n } from 'vue-i18n'
import zh from './locales/zh-CN'

export type Locale = 'zh-CN' | 'en'
const stored = localStorage.getItem('locale')

/**
 * Chinese by default; the choice is remembered in the browser. The English messages are loaded
 * when first wanted, so that the sign-in page of a Chinese user does not carry them.
 */
export const i18n = createI18n({
  legacy: false,
  locale: stored === 'en' ? 'en' : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh },
  datetimeFormats: {
    'zh-CN': { short: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false } },
    'en': { short: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false } },
  },
})

/** Makes a locale's messages available (English is fetched the first time). */
export async function loadLocale(locale: Locale): Promise<void> {
  if (locale === 'en' && !i18n.global.availableLocales.includes('en')) i18n.global.setLocaleMessage('en', (await import('./locales/en')).default)
}

export async function setLocale(locale: Locale): Promise<void> {
  await loadLocale(locale)
  i18n.global.locale.value = locale
  localStorage.setItem('locale', locale)
  document.documentElement.lang = locale
}
