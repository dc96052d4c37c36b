/**
 * The fleet's writes, each one Lua script so that the comparison and the write are one step on the
 * Redis server (docs/operations.md, "Fleet: levers shared over Redis"). Each script writes only when
 * its rule says so, then counts the change in `version` and publishes the key's name on the channel,
 * and answers `{value now stored, version}`. A stored value that does not decode as the script expects
 * is replaced: garbage never blocks a lever. Comparisons are numeric only (Lua compares strings by
 * the server's locale, which the clients cannot know).
 *
 * KEYS[1] the lever's key, KEYS[2] the version key; ARGV[1] the new value (JSON), ARGV[2] the channel,
 * ARGV[3] the message (the key's name), then each script's own arguments.
 */

// redis.pcall: a key of another type (a hash where a string belongs) reads as absent and is replaced,
// and a version that is not a number starts again at 1, rather than every write failing.
const HEAD = `
local cur = redis.pcall('GET', KEYS[1])
if type(cur) ~= 'string' then cur = nil end
local v = nil
if cur then
  local ok, d = pcall(cjson.decode, cur)
  if ok and type(d) == 'table' then v = d end
end
local write = false
`;

const TAIL = `
if write then
  redis.call('SET', KEYS[1], ARGV[1])
  local n = redis.pcall('INCR', KEYS[2])
  if type(n) ~= 'number' then redis.call('SET', KEYS[2], '1') end
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
local version = redis.pcall('GET', KEYS[2])
if type(version) ~= 'string' then version = '0' end
return {redis.call('GET', KEYS[1]) or false, version}
`;

/** Bypass: written when later by `at` (ARGV[4]), then `seq` (ARGV[5]); a tie keeps the stored one. */
export const SET_BYPASS = HEAD + `
local at, seq = tonumber(ARGV[4]), tonumber(ARGV[5])
if v == nil or type(v.at) ~= 'number' or type(v.seq) ~= 'number' or type(v.on) ~= 'boolean' then write = true
elseif at > v.at then write = true
elseif at == v.at and seq > v.seq then write = true end
` + TAIL;

/** Rollback of a file config: written when none is stored (the first one stands). */
export const SET_ROLLBACK = HEAD + `
if v == nil or type(v.at) ~= 'number' then write = true end
` + TAIL;

/**
 * Ramp origin of a file config: written when none is stored (the first instance's start stands), or
 * when it has the same `start` (ARGV[4]) and more held steps (ARGV[5]).
 */
export const SET_RAMP = HEAD + `
local start, held = tonumber(ARGV[4]), tonumber(ARGV[5])
if v == nil or type(v.start) ~= 'number' or type(v.held) ~= 'number' then write = true
elseif v.start == start and held > v.held then write = true end
` + TAIL;
