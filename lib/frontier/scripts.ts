/**
 * The frontier's Redis Lua scripts: every step that several crawler processes may race on is one
 * atomic script, so N crawlers on N machines never exceed a throttle together and never receive the
 * same request twice.
 *
 * Every script that adds or removes queued requests also keeps the pending index, so `info` answers from
 * a few small hashes instead of scanning every queue (the original's issue #53: hours for 1M requests):
 *   <spiderid>:pending:<appid>:<crawlid>   HASH "<domain>\t<priority>" -> number of queued requests
 *   <spiderid>:pending:<appid>             SET of the appid's crawlids with queued requests
 * Scripts touch index keys derived from the request they handle: they build them from the queue key's
 * spider part, so on a Redis Cluster (spider part `{<spiderid>}`, lib/frontier/keys.ts) they stay in the
 * queue's hash slot.
 */

/** Lua helpers shared by the scripts: adjust the pending index for one queue member. */
const INDEX_FN = `
local function queue_parts(queue)
  local spider, domain = string.match(queue, '^([^:]+):(.*):queue$')
  return spider, domain
end
local function index_adjust(queue, member, delta)
  local ok, item = pcall(cjson.decode, member)
  if not ok or type(item) ~= 'table' or item.appid == nil or item.crawlid == nil then return end
  local spider, domain = queue_parts(queue)
  if spider == nil then return end
  local key = spider .. ':pending:' .. tostring(item.appid) .. ':' .. tostring(item.crawlid)
  local field = domain .. '\\t' .. tostring(item.priority)
  local left = redis.call('HINCRBY', key, field, delta)
  if left <= 0 then
    redis.call('HDEL', key, field)
    if redis.call('HLEN', key) == 0 then
      redis.call('DEL', key)
      redis.call('SREM', spider .. ':pending:' .. tostring(item.appid), tostring(item.crawlid))
    end
  else
    redis.call('SADD', spider .. ':pending:' .. tostring(item.appid), tostring(item.crawlid))
  end
end
`;

/**
 * Enqueue requests of one spider (a seed, or every link of a page in one call).
 * KEYS: 1 queue registry, 2 sequence counter, 3 crawl blacklist, then for each request i (from 0):
 *       4+4i queue, 5+4i dupefilter, 6+4i domain_max_pages counter, 7+4i global page counter
 * ARGV: 1 DUPEFILTER_TIMEOUT, 2 domain_max_pages timeout, 3 GLOBAL_PAGE_PER_DOMAIN_LIMIT (0 = none),
 *       4 its timeout, then for each request i: 5+5i member, 6+5i priority, 7+5i fingerprint ("" = no
 *       dupefilter), 8+5i blacklist member ("" = no check), 9+5i domain_max_pages (0 = none)
 * Returns one outcome per request, in order: "queued", "duplicate", "blacklisted", "domain_max_pages" or
 * "global_limit". Requests are handled in order, so a page's links keep their order in their queue.
 * Scores keep priority order and, among equal priorities, first-in first-out: score =
 * -priority + (seq mod 1e8) * 1e-9. Each dupefilter touched gets its expiry once.
 */
export const ENQUEUE_LUA = `${INDEX_FN}
local dupe_timeout = tonumber(ARGV[1])
local dmax_timeout = tonumber(ARGV[2])
local global_limit = tonumber(ARGV[3])
local global_timeout = tonumber(ARGV[4])
local function limited(key, limit, timeout, always_expire)
  if limit <= 0 then return false end
  local value = tonumber(redis.call('GET', key) or '0')
  if value >= limit then
    if always_expire then redis.call('EXPIRE', key, timeout) end
    return true
  end
  value = redis.call('INCR', key)
  redis.call('EXPIRE', key, timeout)
  return value >= limit
end
local blacklisted = {}
local dupefilters = {}
local out = {}
local n = (#KEYS - 3) / 4
for i = 0, n - 1 do
  local queue, dupefilter, dmax_key, global_key = KEYS[4 + 4 * i], KEYS[5 + 4 * i], KEYS[6 + 4 * i], KEYS[7 + 4 * i]
  local member, priority, fp, bl = ARGV[5 + 5 * i], tonumber(ARGV[6 + 5 * i]), ARGV[7 + 5 * i], ARGV[8 + 5 * i]
  local outcome = nil
  if bl ~= '' then
    if blacklisted[bl] == nil then blacklisted[bl] = redis.call('SISMEMBER', KEYS[3], bl) == 1 end
    if blacklisted[bl] then outcome = 'blacklisted' end
  end
  if outcome == nil and fp ~= '' then
    dupefilters[dupefilter] = true
    if redis.call('SADD', dupefilter, fp) == 0 then outcome = 'duplicate' end
  end
  if outcome == nil and limited(dmax_key, tonumber(ARGV[9 + 5 * i]), dmax_timeout, true) then outcome = 'domain_max_pages' end
  if outcome == nil and limited(global_key, global_limit, global_timeout, false) then outcome = 'global_limit' end
  if outcome == nil then
    local seq = redis.call('INCR', KEYS[2])
    local score = -priority + (seq % 100000000) * 1e-9
    if redis.call('ZADD', queue, score, member) == 1 then index_adjust(queue, member, 1) end
    redis.call('SADD', KEYS[1], queue)
    outcome = 'queued'
  end
  out[#out + 1] = outcome
end
for key in pairs(dupefilters) do redis.call('EXPIRE', key, dupe_timeout) end
return out
`;

/**
 * Which fingerprints a dupefilter already holds (read only), refreshing its expiry as the
 * enqueue script does for every dupefilter it touches: requests found here are not sent to it, and the
 * filter of a crawl whose pages only lead to pages already seen must not expire while it is crawled.
 * KEYS: 1 dupefilter.  ARGV: 1 DUPEFILTER_TIMEOUT, 2.. fingerprints.  Returns 1/0 per fingerprint.
 */
export const SEEN_LUA = `
local seen = {}
for i = 2, #ARGV do seen[#seen + 1] = redis.call('SISMEMBER', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return seen
`;

/**
 * Pop the best requests of a domain queue, as many as the throttle allows up to a maximum, and lease them.
 * KEYS: 1 queue, 2 throttle window (ZSET of hit times), 3 moderation key (next allowed time),
 *       4 leases (ZSET, score = lease expiry)
 * ARGV: 1 now (s), 2 window (s), 3 limit, 4 moderated (1/0), 5 lease expiry (s), 6 unique hit id,
 *       7 most requests to pop (default 1), 8 score limit: only requests scoring below it are popped
 *       ("" = none; the scheduler passes the end of the best priority among all queues, so a batch never
 *       takes a lower priority while another queue still has a higher one)
 * Returns {0} empty queue, {3, head score} nothing below the limit, {1, retry_at, head score} throttled,
 * {2, head score after the pop or '' when empty, member, score, lease[, member, score, lease...]} popped
 * (fewer than asked when the queue empties, the limit is reached or the throttle fills meanwhile). The
 * head scores let the scheduler know each queue's best request without asking again.
 * Unlike the original, a check on an empty queue consumes no hit.
 * Moderation spreads `limit` pops evenly over `window` (so a moderated queue gives one request per
 * call). The next slot is anchored on the schedule, not on the actual pop time, so polling latency does
 * not make the rate drift (the original's issue #47): a pop up to one interval late keeps the schedule;
 * after a longer pause the schedule restarts one interval after the pop (no bursts).
 */
export const POP_LUA = `${INDEX_FN}
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local most = tonumber(ARGV[7] or '1')
local below = tonumber(ARGV[8] or '')
local moderated = ARGV[4] == '1' and limit > 1
local ttl = math.ceil(2 * window) + 1
local out = {2, ''}
local count = nil
for i = 1, most do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #head == 0 then
    if i == 1 then return {0} end
    break
  end
  if below ~= nil and tonumber(head[2]) >= below then
    if i == 1 then return {3, head[2]} end
    break
  end
  if count == nil then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. tostring(now - window))
    count = redis.call('ZCARD', KEYS[2])
  end
  if count >= limit then
    if i > 1 then break end
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {1, tostring(tonumber(oldest[2]) + window), head[2]}
  end
  if moderated then
    if i > 1 then break end
    local interval = window / limit
    local next_at = tonumber(redis.call('GET', KEYS[3]) or '0')
    if now < next_at then return {1, tostring(next_at), head[2]} end
    local following = now + interval
    if now - next_at <= interval then following = next_at + interval end
    redis.call('SET', KEYS[3], tostring(following), 'EX', ttl)
  end
  redis.call('ZADD', KEYS[2], now, ARGV[6] .. ':' .. i)
  count = count + 1
  redis.call('ZREM', KEYS[1], head[1])
  index_adjust(KEYS[1], head[1], -1)
  local lease = KEYS[1] .. '\\n' .. head[2] .. '\\n' .. head[1]
  redis.call('ZADD', KEYS[4], tonumber(ARGV[5]), lease)
  out[#out + 1] = head[1]
  out[#out + 1] = head[2]
  out[#out + 1] = lease
end
redis.call('EXPIRE', KEYS[2], ttl)
local rest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #rest > 0 then out[2] = rest[2] end
return out
`;

/**
 * Return expired leases to their queues (their crawler died), except those of crawls stopped or
 * expired meanwhile (in the blacklist), which are dropped.
 * KEYS: 1 leases, 2 queue registry, 3 crawl blacklist.  ARGV: 1 now, 2 max leases to return.
 * Returns the number of leases handled.
 */
export const REAP_LUA = `${INDEX_FN}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, lease in ipairs(expired) do
  local first = string.find(lease, '\\n', 1, true)
  local second = string.find(lease, '\\n', first + 1, true)
  local queue = string.sub(lease, 1, first - 1)
  local score = string.sub(lease, first + 1, second - 1)
  local member = string.sub(lease, second + 1)
  local ok, item = pcall(cjson.decode, member)
  local stopped = ok and type(item) == 'table' and item.appid ~= nil and item.crawlid ~= nil
    and redis.call('SISMEMBER', KEYS[3], tostring(item.appid) .. '||' .. tostring(item.crawlid)) == 1
  if not stopped then
    if redis.call('ZADD', queue, score, member) == 1 then index_adjust(queue, member, 1) end
    redis.call('SADD', KEYS[2], queue)
  end
  redis.call('ZREM', KEYS[1], lease)
end
return #expired
`;

/**
 * Remove given members from a queue (stop, expire), keeping the pending index right.
 * KEYS: 1 queue.  ARGV: members.  Returns the number removed.
 */
export const PURGE_LUA = `${INDEX_FN}
local removed = 0
for _, member in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], member) == 1 then
    removed = removed + 1
    index_adjust(KEYS[1], member, -1)
  end
end
return removed
`;

/**
 * Forget a queue in the registry when it is empty (atomic against a concurrent enqueue).
 * KEYS: 1 queue, 2 registry.  Returns 1 when removed.
 */
export const FORGET_EMPTY_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], KEYS[1]) end
return 0
`;
