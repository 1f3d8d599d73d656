import type { Severity } from '../rules/types.js';

/** The `{name}` placeholders of a template, as a union of names. */
export type Placeholders<T extends string> = T extends `${string}{${infer A}}${infer R}` ? A | Placeholders<R> : never;

/** The named arguments a template takes: every placeholder, and no other. */
export type MessageArgs<T extends string> = { [K in Placeholders<T>]: string | number };

/**
 * One kind of message a rule reports, in the spirit of Istio's analyzer messages.yaml: a fixed severity,
 * the Envoy symptom users see and a template with named arguments. A rule picks the message type and
 * gives the arguments; it never writes its own severity or prose.
 */
export interface MessageType<T extends string = string> {
  /** The rule that reports it, e.g. MM107. */
  readonly rule: string;
  /** Unique within the rule, e.g. EjectsAllEndpoints. */
  readonly name: string;
  readonly severity: Severity;
  /** As Envoy logs it: "503 UH", "504 UT", "404 NR"; "(latent)" when nothing fails yet. */
  readonly symptom: string;
  /** Envoy's response_code_details or a short gloss, shown after the symptom. */
  readonly detail?: string;
  /** After "<symptom>: ", the finding's message; `{name}` placeholders are filled from the arguments. */
  readonly template: T;
  /** Why this severity: how certain the failure is for the Istio version judged. */
  readonly certainty: string;
}

/** A message type before its rule and name are stamped on it by `defineRule`. */
export type MessageSpec<T extends string = string> = Omit<MessageType<T>, 'rule' | 'name'>;

export function message<const T extends string>(spec: MessageSpec<T>): MessageSpec<T> {
  return spec;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The names a template uses, in order of first use. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** The symptom line and the filled template: the message a finding carries. */
export function render<T extends string>(type: MessageType<T>, args: MessageArgs<T>): string {
  const values = args as Record<string, string | number>;
  const text = type.template.replace(PLACEHOLDER, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`${type.rule}/${type.name}: no argument ${name}`);
    return String(v);
  });
  return `${type.symptom}${type.detail ? ` (${type.detail})` : ''}: ${text}`;
}

/** Fills a catalogue fragment (a part of a message repeated per item, e.g. one offending level). */
export function fill<const T extends string>(fragment: T, args: MessageArgs<T>): string {
  const values = args as Record<string, string | number>;
  return fragment.replace(PLACEHOLDER, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`fragment ${fragment}: no argument ${name}`);
    return String(v);
  });
}
