package dev.embedstream.common.cache;

import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The collection epoch of each tenant: a Redis counter {@code embedstream:epoch:<collection>:<tenant>}
 * that the Milvus sink increments after every committed write touching the tenant. Cached answers
 * are keyed on the epoch they were computed at, so a write makes every older answer unreachable.
 * A tenant never written has epoch 0.
 */
public final class CollectionEpochs {

    private final RedisLink link;
    private final String prefix;

    public CollectionEpochs(RedisLink link, String collection) {
        this.link = link;
        this.prefix = "embedstream:epoch:" + collection + ":";
    }

    byte[] redisKey(String tenant) {
        return (prefix + tenant).getBytes(StandardCharsets.UTF_8);
    }

    /** Increments the epochs of {@code tenants}; false when Redis did not confirm all of them. */
    public boolean bump(Collection<String> tenants) {
        if (tenants.isEmpty()) {
            return true;
        }
        List<String> list = List.copyOf(tenants);
        return link.call("epoch bump", redis -> {
            List<RedisFuture<Long>> sent = new ArrayList<>(list.size());
            for (String t : list) {
                sent.add(redis.incr(redisKey(t)));
            }
            // Commands on one connection complete in order: the last one answers for all.
            return sent.get(sent.size() - 1);
        }).isPresent();
    }

    /** The epochs of {@code tenants} in one MGET, or empty when Redis cannot be read. */
    public Optional<Map<String, Long>> read(List<String> tenants) {
        if (tenants.isEmpty()) {
            return Optional.of(Map.of());
        }
        byte[][] keys = new byte[tenants.size()][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = redisKey(tenants.get(i));
        }
        return link.call("epoch read", redis -> redis.mget(keys)).map(values -> {
            Map<String, Long> epochs = new HashMap<>();
            for (int i = 0; i < values.size(); i++) {
                KeyValue<byte[], byte[]> kv = values.get(i);
                epochs.put(tenants.get(i), kv.hasValue() ? Long.parseLong(new String(kv.getValue(), StandardCharsets.US_ASCII)) : 0L);
            }
            return epochs;
        });
    }
}
