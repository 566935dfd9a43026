package dev.embedstream.common.cache;

import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;
import java.util.regex.Pattern;

/**
 * The collection epoch of each tenant, which every cached answer is keyed on: a write makes each
 * older answer unreachable. An epoch is two Redis values, and is never a value it had before, also
 * after Redis loses its data (a flush, a restart without persistence, an eviction):
 * <ul>
 *   <li>the collection's generation {@code embedstream:epoch-gen:<collection>}, 16 random hex
 *       digits set once with {@code SET NX};</li>
 *   <li>the tenant's counter {@code embedstream:epoch:<collection>:<tenant>}, which the Milvus sink
 *       increments after every committed write touching the tenant.</li>
 * </ul>
 * A key that is absent when read or bumped is created with a fresh random value (never at 0), so
 * whichever of them Redis loses, alone or together, the epoch comes back as one no answer was ever
 * stored under: a lost generation makes every answer of the collection unreachable, a lost counter
 * every answer of its tenant. Reads and bumps are Lua scripts, atomic in Redis. A value that is not
 * well formed (garbage written by something else) is reported as corrupt, read as "epoch unknown"
 * (nothing is served or stored for that tenant) and replaced by a fresh random value, so the next
 * read has a new epoch. The keys expire after {@link #KEY_TTL} without a write; an expired key is
 * just a lost one.
 */
public final class CollectionEpochs {

    /** Lifetime of the epoch keys, renewed by every bump: bounds the keys of tenants gone quiet. */
    public static final Duration KEY_TTL = Duration.ofDays(30);
    /** Random counter starts stay below this, leaving 2^62 increments before INCR could overflow. */
    static final long MAX_START = 1L << 62;

    private static final Pattern GENERATION = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern COUNTER = Pattern.compile("0|[1-9][0-9]{0,18}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * KEYS[1] the generation, KEYS[2..] the counters; ARGV[1] the TTL in seconds, ARGV[i + 1] a
     * fresh random value for KEYS[i]. Returns each key's value; a malformed one is returned as it
     * was (the caller treats it as unknown) and replaced by its fresh value.
     */
    static final String READ_SCRIPT = """
            local function wellformed(i, v)
              if i == 1 then return #v == 16 and string.match(v, '^[0-9a-f]+$') ~= nil end
              return #v <= 19 and (v == '0' or string.match(v, '^[1-9][0-9]*$') ~= nil)
            end
            local out = {}
            for i, key in ipairs(KEYS) do
              local v = redis.pcall('GET', key)
              if type(v) == 'table' then
                redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
                v = '(not a string)'
              elseif not v then
                redis.call('SET', key, ARGV[i + 1], 'NX', 'EX', ARGV[1])
                v = ARGV[i + 1]
              elseif not wellformed(i, v) then
                redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
              end
              out[i] = v
            end
            return out
            """;

    /**
     * KEYS[1] the generation, KEYS[2..] the counters of the tenants written; ARGV as for the read.
     * The generation is created or repaired when needed and its TTL renewed; each counter is
     * incremented, or set to a fresh random start when absent or not an integer: a value never
     * used before either way.
     */
    static final String BUMP_SCRIPT = """
            local g = redis.pcall('GET', KEYS[1])
            if type(g) == 'table' or not g or #g ~= 16 or not string.match(g, '^[0-9a-f]+$') then
              redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[1])
            else
              redis.call('EXPIRE', KEYS[1], ARGV[1])
            end
            for i = 2, #KEYS do
              if redis.call('EXISTS', KEYS[i]) == 0 then
                redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[1])
              else
                local r = redis.pcall('INCR', KEYS[i])
                if type(r) == 'table' then
                  redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[1])
                else
                  redis.call('EXPIRE', KEYS[i], ARGV[1])
                end
              end
            end
            return #KEYS
            """;

    /**
     * The epoch of a tenant: the collection's generation and the tenant's counter.
     * {@link #token()} is how cache keys hold it.
     */
    public record Epoch(String generation, long counter) {
        /** {@code <generation>.<counter>}: no colon, so the fields of a cache key stay apart. */
        public String token() {
            return generation + "." + counter;
        }

        @Override
        public String toString() {
            return token();
        }
    }

    private final RedisLink link;
    private final String generationKey;
    private final String prefix;
    private final long ttlSeconds;
    private volatile IntConsumer onCorrupt = n -> { };

    public CollectionEpochs(RedisLink link, String collection) {
        this.link = link;
        this.generationKey = "embedstream:epoch-gen:" + collection;
        this.prefix = "embedstream:epoch:" + collection + ":";
        this.ttlSeconds = KEY_TTL.toSeconds();
    }

    /** Told how many malformed epoch values a read met. */
    public void onCorrupt(IntConsumer count) {
        this.onCorrupt = count;
    }

    byte[] redisKey(String tenant) {
        return (prefix + tenant).getBytes(StandardCharsets.UTF_8);
    }

    byte[] generationKey() {
        return generationKey.getBytes(StandardCharsets.UTF_8);
    }

    /** Increments the epochs of {@code tenants}; false when Redis did not confirm all of them. */
    public boolean bump(Collection<String> tenants) {
        if (tenants.isEmpty()) {
            return true;
        }
        List<String> list = List.copyOf(new LinkedHashSet<>(tenants));
        byte[][] keys = keys(list);
        byte[][] args = args(keys.length);
        return link.call("epoch bump", redis -> redis.<Long>eval(BUMP_SCRIPT, ScriptOutputType.INTEGER, keys, args))
                .isPresent();
    }

    /**
     * The epochs of {@code tenants} in one round trip, or empty when Redis cannot be read. A tenant
     * whose epoch is malformed in Redis is absent from the map (and counted as corrupt); when the
     * generation is malformed, every tenant is.
     */
    public Optional<Map<String, Epoch>> read(List<String> tenants) {
        if (tenants.isEmpty()) {
            return Optional.of(Map.of());
        }
        List<String> list = List.copyOf(new LinkedHashSet<>(tenants));
        byte[][] keys = keys(list);
        byte[][] args = args(keys.length);
        return link.call("epoch read", redis -> redis.<List<Object>>eval(READ_SCRIPT, ScriptOutputType.MULTI, keys, args))
                .flatMap(values -> parse(list, values));
    }

    private Optional<Map<String, Epoch>> parse(List<String> tenants, List<Object> values) {
        if (values.size() != tenants.size() + 1) {
            return Optional.empty();
        }
        int corrupt = 0;
        Map<String, Epoch> epochs = new HashMap<>();
        String generation = text(values.get(0));
        if (generation == null || !GENERATION.matcher(generation).matches()) {
            onCorrupt.accept(1);
            return Optional.of(epochs);
        }
        for (int i = 0; i < tenants.size(); i++) {
            Long counter = counter(text(values.get(i + 1)));
            if (counter == null) {
                corrupt++;
            } else {
                epochs.put(tenants.get(i), new Epoch(generation, counter));
            }
        }
        if (corrupt > 0) {
            onCorrupt.accept(corrupt);
        }
        return Optional.of(epochs);
    }

    private static String text(Object value) {
        return value instanceof byte[] b && b.length <= 64 ? new String(b, StandardCharsets.US_ASCII) : null;
    }

    /** A well-formed non-negative counter, or null. */
    static Long counter(String s) {
        if (s == null || !COUNTER.matcher(s).matches()) {
            return null;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException tooLarge) {
            return null;
        }
    }

    private byte[][] keys(List<String> tenants) {
        byte[][] keys = new byte[tenants.size() + 1][];
        keys[0] = generationKey();
        for (int i = 0; i < tenants.size(); i++) {
            keys[i + 1] = redisKey(tenants.get(i));
        }
        return keys;
    }

    /** The TTL, then a fresh random generation and a fresh random counter start per tenant. */
    private byte[][] args(int keys) {
        byte[][] args = new byte[keys + 1][];
        args[0] = Long.toString(ttlSeconds).getBytes(StandardCharsets.US_ASCII);
        args[1] = HexFormat.of().toHexDigits(RANDOM.nextLong()).getBytes(StandardCharsets.US_ASCII);
        for (int i = 2; i <= keys; i++) {
            args[i] = Long.toString(RANDOM.nextLong(MAX_START)).getBytes(StandardCharsets.US_ASCII);
        }
        return args;
    }
}
