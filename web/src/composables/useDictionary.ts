import { computed, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { type Dictionary, fetchDictionary } from '../api/premises'

const dictionary = ref<Dictionary>()
let loading: Promise<void> | undefined

/** The hazard dictionary and departments, fetched once per page, named in the current language. */
export function useDictionary() {
  const { locale } = useI18n()
  loading ??= fetchDictionary().then((d) => {
    dictionary.value = d
  }).catch(() => {
    loading = undefined
  })
  const name = (o: { nameZh: string; nameEn: string } | undefined) => (o ? (locale.value === 'en' ? o.nameEn : o.nameZh) : '')
  const items = computed(() => new Map(dictionary.value?.categories.flatMap(c => c.items.map(i => [i.code, i] as const)) ?? []))
  const departments = computed(() => new Map(dictionary.value?.departments.map(d => [d.code, d] as const) ?? []))
  return { dictionary, items, departments, name }
}
