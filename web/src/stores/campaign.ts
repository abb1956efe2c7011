import { defineStore } from 'pinia'
import { ref } from 'vue'
import { fetchCampaign, type Campaign } from '../api/reference'
import { fetchSummary, type Summary } from '../api/stats'

/** The campaign and its measures on the day being viewed. */
export const useCampaignStore = defineStore('campaign', () => {
  const campaign = ref<Campaign>()
  const summary = ref<Summary>()
  const asOf = ref<string>()
  const error = ref('')

  async function load(day?: string) {
    error.value = ''
    try {
      campaign.value ??= await fetchCampaign()
      const wanted = day ?? campaign.value.referenceDate
      summary.value = await fetchSummary(wanted)
      asOf.value = wanted
    }
    catch (e) {
      error.value = (e as Error).message
    }
  }

  function clear() {
    summary.value = undefined
    asOf.value = undefined
    error.value = ''
  }

  return { campaign, summary, asOf, error, load, clear }
})
