import type { KnownKind } from '../model/kinds.js';
import type { MessageSpec, MessageType } from './message-type.js';
import type { ParameterName } from './parameters.js';

export interface RuleDocs {
  /** What users see. */
  readonly symptom: string;
  /** Why Envoy does it. */
  readonly cause: string;
  /** What meshmedic changes. */
  readonly fix: string;
  /** The seed outages (../seeds) or peers the rule comes from. */
  readonly seeds: readonly string[];
  /** How the verdict depends on the Istio version. */
  readonly versions: string;
  /** What `meshmedic verify` can check of it (expressible or not, and why). */
  readonly verify?: string;
}

/**
 * A client data plane a verdict can be about: a sidecar, a gateway (router), an ambient pod's ztunnel (L4
 * only: no VirtualService, DestinationRule traffic policy or Sidecar resource applies), or an ambient
 * destination's waypoint (an Envoy that applies L7 configuration for the services bound to it).
 */
export type ClientDataPlane = 'sidecar' | 'gateway' | 'ztunnel' | 'waypoint';

export const ALL_DATA_PLANES: readonly ClientDataPlane[] = ['sidecar', 'gateway', 'ztunnel', 'waypoint'];

type Stamped<M extends Record<string, MessageSpec>> = {
  readonly [K in keyof M]: M[K] extends MessageSpec<infer T> ? MessageType<T> : never;
};

/** One rule of the catalogue: everything about it except the check itself. */
export interface RuleEntry<M extends Record<string, MessageSpec> = Record<string, MessageSpec>> {
  readonly id: string;
  readonly name: string;
  /** One line for the README and `meshmedic rules`. */
  readonly summary: string;
  readonly docs: RuleDocs;
  readonly parameters: readonly ParameterName[];
  /** Kinds the rule is evaluated on. */
  readonly subjects: readonly KnownKind[];
  /** Kinds whose changes can change its verdict on a subject (besides the subject itself). */
  readonly reads: readonly KnownKind[];
  /**
   * The client data planes the rule's verdict holds for (default: all). analyze drops a finding whose
   * client is an ambient pod's ztunnel (or waypoint) when this does not list it, and a rule listing only
   * 'gateway' is about gateways wherever its subject lives.
   */
  readonly dataPlanes?: readonly ClientDataPlane[];
  readonly messages: Stamped<M>;
}

export interface RuleEntrySpec<M extends Record<string, MessageSpec>> extends Omit<RuleEntry<M>, 'messages'> {
  readonly messages: M;
}

/** Stamps the rule id and each message type's name on its messages. */
export function defineRule<const M extends Record<string, MessageSpec>>(spec: RuleEntrySpec<M>): RuleEntry<M> {
  const messages = Object.fromEntries(
    Object.entries(spec.messages).map(([name, m]) => [name, { ...m, rule: spec.id, name }]),
  );
  return { ...spec, messages: messages as Stamped<M> };
}

export function messageTypesOf(entry: RuleEntry): MessageType[] {
  return Object.values<MessageType>(entry.messages);
}

/**
 * Message types of a rule defined outside its entry: the access-log forms of MM104–MM106
 * (src/catalogue/access-log.ts). They belong to the rule and are listed with it.
 */
export function defineMessages<const M extends Record<string, MessageSpec>>(rule: string, specs: M): Stamped<M> {
  return Object.fromEntries(Object.entries(specs).map(([name, m]) => [name, { ...m, rule, name }])) as Stamped<M>;
}
