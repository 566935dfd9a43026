package dev.embedstream.jobs;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A sink that keeps what every subtask writes in this JVM (a MiniCluster runs in the test's JVM),
 * for tests of the whole graph. Each instance has its own store, so tests do not see each other's
 * records; the sink itself is serialized into the job and finds its store by id.
 */
public final class CollectingSink<T> implements Sink<T> {

    private static final Map<String, ConcurrentLinkedQueue<Object>> STORES = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();

    public CollectingSink() {
        STORES.put(id, new ConcurrentLinkedQueue<>());
    }

    /** Everything written so far, in no particular order across subtasks. */
    @SuppressWarnings("unchecked")
    public List<T> collected() {
        return (List<T>) List.copyOf(STORES.get(id));
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
        ConcurrentLinkedQueue<Object> store = STORES.get(id);
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context context) {
                store.add(element);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
