import { defineStore } from 'pinia'
import { ref } from 'vue'
import { fetchCampaign, type Campaign } from '../api/reference'
import { fetchSummary, type Summary } from '../api/stats'

/** The campaign and its measures for the day and filters being viewed. */
export const useCampaignStore = defineStore('campaign', () => {
  const campaign = ref<Campaign>()
  const summary = ref<Summary>()
  const asOf = ref<string>()
  const error = ref('')
  let request = 0

  async function load(query: Record<string, string> = {}) {
    error.value = ''
    const mine = ++request
    try {
      campaign.value ??= await fetchCampaign()
      const result = await fetchSummary(query)
      // A slower, older answer must not overwrite a newer one.
      if (mine !== request) return
      summary.value = result
      asOf.value = result.asOf
    }
    catch (e) {
      if (mine === request) error.value = (e as Error).message
    }
  }

  function clear() {
    summary.value = undefined
    asOf.value = undefined
    error.value = ''
  }

  return { campaign, summary, asOf, error, load, clear }
})
