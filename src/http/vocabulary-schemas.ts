import { Type } from 'typebox'
import { ROLES } from '../access/policy.js'
import { ACTIONS } from '../domain/lifecycle.js'
import {
  ACKNOWLEDGEMENT_CHANNELS, CHANNELS, CLOSURE_TYPES, COMPLAINANT_KINDS, DESIRED_OUTCOMES, EXTERNAL_CHANNELS, FOLLOW_UP_MODES, IRRATIONAL_STAGES, LEVELS,
  NATURES, NOTE_KINDS, STATUSES,
} from '../domain/vocabulary.js'
import { named } from './named.js'

/**
 * The vocabulary (docs/vocabulary.md) as named enums of the OpenAPI document: one type per term in a
 * generated client, wherever the term appears — requests, responses, problems, events.
 */
export const Status = named('Status', Type.Enum([...STATUSES], { description: 'where the complaint is in its lifecycle' }))
export const Level = named('Level', Type.Enum([...LEVELS], { description: '级别: general 一般, moderate 中级, strong 强烈, irrational 非理性' }))
export const Channel = named('Channel', Type.Enum([...CHANNELS], { description: 'intake channel' }))
export const ExternalBody = named('ExternalBody', Type.Enum([...EXTERNAL_CHANNELS], { description: '投诉: the outside body the customer went to' }))
export const FollowUpMode = named('FollowUpMode', Type.Enum([...FOLLOW_UP_MODES], { description: '关注 watch / 监控 monitor' }))
export const IrrationalStage = named('IrrationalStage', Type.Enum([...IRRATIONAL_STAGES], { description: '一次/二次非理性' }))
export const Nature = named('Nature', Type.Enum([...NATURES], { description: '善意 good_faith / 恶意 malicious' }))
export const NoteKind = named('NoteKind', Type.Enum([...NOTE_KINDS], { description: 'structured listening (fact, emotion, expectation), a rework callback, or internal' }))
export const ClosureType = named('ClosureType', Type.Enum([...CLOSURE_TYPES], { description: '一次关闭 first_time / 二次关闭 second_time' }))
export const DesiredOutcome = named('DesiredOutcome', Type.Enum([...DESIRED_OUTCOMES], { description: 'what the complainant wants' }))
export const AcknowledgementChannel = named('AcknowledgementChannel', Type.Enum([...ACKNOWLEDGEMENT_CHANNELS], { description: 'how the complainant was told' }))
export const ComplainantKind = named('ComplainantKind', Type.Enum([...COMPLAINANT_KINDS], { description: 'a person or a company' }))
export const LifecycleAction = named('LifecycleAction', Type.Enum([...ACTIONS], { description: 'a lifecycle step' }))
export const Role = named('Role', Type.Enum([...ROLES], { description: 'what an API key may do (docs/roles.md)' }))
