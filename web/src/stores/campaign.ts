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
      asOf.value = day ?? campaign.value.referenceDate
      summary.value = await fetchSummary(asOf.value)
    }
    catch (e) {
      error.value = (e as Error).message
    }
  }

  return { campaign, summary, asOf, error, load }
})
