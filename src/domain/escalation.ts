import type { IrrationalStage, Level } from './vocabulary.js'

/**
 * Automatic level upgrade (seed 002 §7.4.3, docs/escalation.md): a complaint that is not closed in time,
 * or whose closure is rejected at the callback, moves up one level and its clocks restart.
 */
export type UpgradeMap = Record<Exclude<Level, 'irrational'>, Exclude<Level, 'irrational'>>

export const DEFAULT_UPGRADE_MAP: UpgradeMap = {
  general: 'moderate',
  moderate: 'strong',
  strong: 'strong', // stays strong, flagged to management each cycle
}

export interface LevelState {
  level: Level
  irrationalStage: IrrationalStage | null
}

export interface Upgrade extends LevelState {
  /** a complaint already at the top keeps its level and is flagged to management instead */
  flagManagement: boolean
  /** irrational complaints need a follow-up mode (watch / monitor) after the upgrade */
  followUpRequired: boolean
}

export function upgradeLevel(current: LevelState, map: UpgradeMap = DEFAULT_UPGRADE_MAP): Upgrade {
  if (current.level === 'irrational') {
    return { level: 'irrational', irrationalStage: 'second', flagManagement: current.irrationalStage === 'second', followUpRequired: true }
  }
  const next = map[current.level]
  return { level: next, irrationalStage: null, flagManagement: next === current.level, followUpRequired: false }
}
