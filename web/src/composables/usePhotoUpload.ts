import { useI18n } from 'vue-i18n'
import { ApiError } from '../api/client'
import { NotAPhotoError } from '../api/photos'

/**
 * Turns what can go wrong with a photo into a sentence for the screen: the server's own sentence
 * when it gave one (in the screen's language), otherwise ours, never a bare status line.
 */
export function usePhotoMessages() {
  const { t } = useI18n()
  return {
    message(e: unknown): string {
      if (e instanceof NotAPhotoError) return t('photos.notAPhoto')
      if (e instanceof ApiError) {
        if (e.reason) return e.message
        if (e.status === 413) return t('photos.tooLarge')
        if (e.status === 415) return t('photos.notAPhoto')
        return e.message
      }
      return t('photos.notSent', { message: (e as Error).message })
    },
  }
}

/** "312 kB", "4.2 MB". */
export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`
}
