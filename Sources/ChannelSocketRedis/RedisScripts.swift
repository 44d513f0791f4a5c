/// The Lua scripts the broker runs in Redis (each one atomic there), and the key layout.
///
/// Keys, for a cluster named `c` (`RedisBroker.Options.clusterName`), prefix `chsk:{c}:`:
/// - `bus`: a stream (`XADD … MAXLEN ~ N`) of every node's pushes, broadcasts, closes,
///   membership changes and node departures, in one order; each node reads it from its last
///   id, so a node that was away resumes where it was.
/// - `nodes`: a sorted set, node id → the Redis time (ms) its heartbeat expires.
/// - `node:<id>`: a hash, uid (EDN text) → that node's flags (`w`, `a`, `wa`).
/// - `uid:<uid>`: a hash, node id → flags: which nodes have the uid (the cluster-wide
///   membership, from which opens and closes are decided atomically).
/// - `epoch`: a random token set once; a different one after a reconnect means Redis lost its
///   data (restarted without persistence) and the nodes restore what they hold.
enum RedisScripts {
    /// KEYS: nodes, epoch, bus. ARGV: node, ttl-ms, prefix, maxlen, epoch-candidate.
    /// Renews this node's heartbeat and sweeps expired nodes: their uids leave the cluster
    /// (those no other node has are returned, for this node to close), a `gone` entry per node.
    /// Returns {added (1 when this node was not registered), epoch, dead nodes, closed uids}.
    static let heartbeat = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local epoch = redis.call('GET', KEYS[2])
    if not epoch then
      redis.call('SET', KEYS[2], ARGV[5])
      epoch = ARGV[5]
    end
    local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
    local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
    local closed = {}
    for _, node in ipairs(dead) do
      local nk = ARGV[3] .. 'node:' .. node
      for _, uid in ipairs(redis.call('HKEYS', nk)) do
        local uk = ARGV[3] .. 'uid:' .. uid
        redis.call('HDEL', uk, node)
        if redis.call('HLEN', uk) == 0 then closed[#closed + 1] = uid end
      end
      redis.call('DEL', nk)
      redis.call('ZREM', KEYS[1], node)
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'n', node, 'k', 'gone')
    end
    return {added, epoch, dead, closed}
    """

    /// KEYS: node:<id>, uid:<uid>, bus. ARGV: node, uid, flags ('' = gone), maxlen, restore.
    /// Sets this node's membership of the uid and tells the others (a `presence` entry).
    /// Returns 1 when the uid just joined the cluster, -1 when it just left it, else 0 (always
    /// 0 when restoring after Redis lost its data: nothing really opened).
    static let announce = """
    local before = redis.call('HLEN', KEYS[2])
    if ARGV[3] == '' then
      redis.call('HDEL', KEYS[1], ARGV[2])
      redis.call('HDEL', KEYS[2], ARGV[1])
    else
      redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
      redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
    end
    local after = redis.call('HLEN', KEYS[2])
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'n', ARGV[1], 'k', 'presence', 'u', ARGV[2], 'p', ARGV[3])
    if ARGV[5] == '1' then return 0 end
    if before == 0 and after > 0 then return 1 end
    if before > 0 and after == 0 then return -1 end
    return 0
    """
}
