import { MM104_LOG, MM105_LOG, MM106_LOG, MM210_LOG } from './access-log.js';
import type { MessageType } from './message-type.js';
import type { RuleEntry } from './rule-entry.js';
import { messageTypesOf } from './rule-entry.js';
import { MM101 } from './rules/mm101.js';
import { MM102 } from './rules/mm102.js';
import { MM103 } from './rules/mm103.js';
import { MM104 } from './rules/mm104.js';
import { MM105 } from './rules/mm105.js';
import { MM106 } from './rules/mm106.js';
import { MM107 } from './rules/mm107.js';
import { MM108 } from './rules/mm108.js';
import { MM201 } from './rules/mm201.js';
import { MM202 } from './rules/mm202.js';
import { MM203 } from './rules/mm203.js';
import { MM204 } from './rules/mm204.js';
import { MM205 } from './rules/mm205.js';
import { MM206 } from './rules/mm206.js';
import { MM207 } from './rules/mm207.js';
import { MM210 } from './rules/mm210.js';
import { MM211 } from './rules/mm211.js';
import { MM212 } from './rules/mm212.js';
import { MM213 } from './rules/mm213.js';
import { MM214 } from './rules/mm214.js';
import { MM217 } from './rules/mm217.js';
import { MM218 } from './rules/mm218.js';
import { MM219 } from './rules/mm219.js';
import { MM220 } from './rules/mm220.js';
import { MM221 } from './rules/mm221.js';
import { MM222 } from './rules/mm222.js';
import { MM301 } from './rules/mm301.js';
import { MM302 } from './rules/mm302.js';
import { MM303 } from './rules/mm303.js';
import { MM401 } from './rules/mm401.js';
import { MM402 } from './rules/mm402.js';
import { MM403 } from './rules/mm403.js';
import { MM404 } from './rules/mm404.js';

/** Every rule meshmedic has, in id order: the one source of ids, names, docs, parameters and message types. */
export const CATALOGUE: readonly RuleEntry[] = [
  MM101,
  MM102,
  MM103,
  MM104,
  MM105,
  MM106,
  MM107,
  MM108,
  MM201,
  MM202,
  MM203,
  MM204,
  MM205,
  MM206,
  MM207,
  MM210,
  MM211,
  MM212,
  MM213,
  MM214,
  MM217,
  MM218,
  MM219,
  MM220,
  MM221,
  MM222,
  MM301,
  MM302,
  MM303,
  MM401,
  MM402,
  MM403,
  MM404,
];

export function catalogueEntry(id: string): RuleEntry | undefined {
  return CATALOGUE.find((e) => e.id === id);
}

/** The message types of a rule: its entry's, then those of its access-log forms. */
export function messageTypesOfRule(id: string): MessageType[] {
  const entry = catalogueEntry(id);
  return [...(entry ? messageTypesOf(entry) : []), ...ACCESS_LOG_TYPES.filter((t) => t.rule === id)];
}

const ACCESS_LOG_TYPES: readonly MessageType[] = [MM104_LOG, MM105_LOG, MM106_LOG, MM210_LOG].flatMap(
  (m) => Object.values(m) as MessageType[],
);
