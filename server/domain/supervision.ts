/**
 * Supervision (挂牌督办) rules that need no database: the campaign's escalation rules and how late
 * an item is. Pure: the web app imports it too.
 */
import { daysBetween } from './calendar.js'
import type { EscalationAudience } from './lists.js'

/** An open item at fromLevel moves to toLevel once its deadline is more than afterDays days past. */
export interface EscalationRule {
  fromLevel: number
  toLevel: number
  afterDays: number
  notify: EscalationAudience
}

/** Why a set of rules is refused: a code for programs, the sentence in both languages for people. */
export interface RuleProblem {
  code: 'escalation-negative-days' | 'escalation-loop' | 'escalation-branch' | 'escalation-unreachable' | 'escalation-not-increasing' | 'escalation-empty'
  message: string
  messageZh: string
}

/** The highest level a rule may reach. */
export const maxEscalationLevel = 9

/**
 * What is wrong with a campaign's escalation rules, or null. They must form one chain from level 0
 * (listed) upward: no negative days, no level left twice (a branch), no loop back to a level
 * already passed, every rule reachable from level 0, and each step later than the one before it
 * (otherwise the higher level would be reached first).
 */
export function escalationRuleProblem(rules: readonly EscalationRule[]): RuleProblem | null {
  if (!rules.length) return { code: 'escalation-empty', message: 'give at least one escalation rule', messageZh: '至少需要一条升级规则' }
  const negative = rules.find(r => !Number.isInteger(r.afterDays) || r.afterDays < 0)
  if (negative) {
    return {
      code: 'escalation-negative-days',
      message: `the rule from level ${negative.fromLevel} to ${negative.toLevel} has ${negative.afterDays} days: days past the deadline are a whole number, 0 or more`,
      messageZh: `从第 ${negative.fromLevel} 级升至第 ${negative.toLevel} 级的规则天数为 ${negative.afterDays}：超期天数须为 0 或正整数`,
    }
  }
  const next = new Map<number, EscalationRule>()
  for (const r of rules) {
    if (next.has(r.fromLevel)) {
      return {
        code: 'escalation-branch',
        message: `level ${r.fromLevel} has two rules: an item moves from a level to one next level only`,
        messageZh: `第 ${r.fromLevel} 级有两条规则：每一级只能升至一个下一级`,
      }
    }
    next.set(r.fromLevel, r)
  }
  // Follow the chain from level 0: a level met twice is a loop.
  const seen = new Set<number>([0])
  let level = 0
  let previousDays = -1
  for (let r = next.get(0); r; r = next.get(level)) {
    if (seen.has(r.toLevel) || r.toLevel <= r.fromLevel) {
      return {
        code: 'escalation-loop',
        message: `the rule from level ${r.fromLevel} goes back to level ${r.toLevel}: escalation only goes up, it never loops`,
        messageZh: `从第 ${r.fromLevel} 级的规则回到了第 ${r.toLevel} 级：升级只能逐级向上，不能循环`,
      }
    }
    if (r.afterDays <= previousDays) {
      return {
        code: 'escalation-not-increasing',
        message: `level ${r.toLevel} comes after ${r.afterDays} days, not later than the level before it (${previousDays}): each level must come later`,
        messageZh: `第 ${r.toLevel} 级的超期天数（${r.afterDays}）不大于上一级（${previousDays}）：每一级须晚于上一级`,
      }
    }
    seen.add(r.toLevel)
    previousDays = r.afterDays
    level = r.toLevel
  }
  const stray = rules.find(r => !seen.has(r.fromLevel))
  if (stray) {
    // A rule out of the chain that points back into it is a loop; one standing apart is unreachable.
    const loops = rules.some(r => r.toLevel <= r.fromLevel)
    return loops
      ? { code: 'escalation-loop', message: `the rule from level ${stray.fromLevel} to ${stray.toLevel} makes a loop: escalation only goes up`, messageZh: `从第 ${stray.fromLevel} 级升至第 ${stray.toLevel} 级的规则构成循环：升级只能逐级向上` }
      : { code: 'escalation-unreachable', message: `no rule reaches level ${stray.fromLevel}: the rules form one chain starting at level 0 (listed)`, messageZh: `没有规则升至第 ${stray.fromLevel} 级：规则须从第 0 级（挂牌）起连成一条链` }
  }
  return null
}

/** Days an item is past its deadline on a day (0 when not yet due). */
export function daysOverdue(deadline: string, day: string): number {
  return Math.max(0, daysBetween(deadline, day))
}
