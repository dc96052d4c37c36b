/**
 * `fleet` (docs/config.md, "fleet"): the instances that share their levers through Redis. Off unless
 * given. The URL is only checked for its scheme here: whatever else is wrong with it is found when the
 * process connects, and the process serves all the same (docs/operations.md, "Fleet: levers shared
 * over Redis"). No message quotes the URL: it may carry a password.
 */
import os from 'node:os';
import { REQUIRED, type Section } from '../reader.js';
import type { FleetConfig } from '../types.js';
import type { Built } from './rules.js';

const KEYS = ['name', 'redis', 'instance'] as const;

/** A fleet name becomes part of every key (`ccrouter:<name>:`): no separator, no space. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** An instance name is written in records and in Redis values: printable, no space, bounded. */
const INSTANCE = /^[\x21-\x7e]{1,253}$/;
const SCHEME = /^rediss?:\/\//i;

export function readFleet(root: Section): Built<FleetConfig> | undefined {
  const s = root.section('fleet', KEYS);
  if (!s.present) return undefined;
  const name = s.str('name', REQUIRED, true);
  const redis = s.str('redis', REQUIRED, true);
  const instance = s.str('instance', os.hostname() || 'localhost', true);
  let ok = true;
  if (name !== undefined && !NAME.test(name)) {
    ok = s.problem(s.at('name'), `must be 1 to 64 letters, digits, ".", "_" or "-", got ${s.quote(name, s.at('name'))}`) ?? false;
  }
  if (redis !== undefined && !SCHEME.test(redis)) {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(redis)?.[0];
    ok = s.problem(s.at('redis'), `must be a redis:// or rediss:// URL, got ${scheme === undefined ? 'no scheme' : `scheme "${scheme}"`}`) ?? false;
  }
  if (instance !== undefined && !INSTANCE.test(instance)) {
    ok = s.problem(s.at('instance'), 'must be 1 to 253 printable characters without spaces') ?? false;
  }
  if (!ok || name === undefined || redis === undefined || instance === undefined) return undefined;
  return { name, redis, instance };
}
