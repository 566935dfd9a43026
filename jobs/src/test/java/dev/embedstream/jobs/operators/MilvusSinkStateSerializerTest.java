package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.Origin;
import java.util.List;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.RequestEntryWrapper;
import org.junit.jupiter.api.Test;

class MilvusSinkStateSerializerTest {

    @Test
    void everyKindOfEntryRoundTripsWithTextsBeyondSixtyFourKilobytes() throws Exception {
        String big = "ü€𝄞".repeat(20_000); // ~180 KB of UTF-8, past writeUTF's 64 KiB
        Origin origin = new Origin("embedstream.documents", 3, 1234567890123L);
        List<MilvusSinkEntry> entries = List.of(
                MilvusSinkEntry.of(new ChunkTask("doc", Op.UPSERT, "tenant", 2, 5, big, 7, "hash", "{\"k\":\"v\"}",
                        new float[] {0.5f, -1f, Float.MIN_VALUE}, origin)),
                MilvusSinkEntry.of(ChunkTask.delete("gone", "tenant", origin)),
                MilvusSinkEntry.epochBump("tenant-b"));
        MilvusSinkStateSerializer serializer = new MilvusSinkStateSerializer();
        BufferedRequestState<MilvusSinkEntry> state = new BufferedRequestState<>(
                entries.stream().map(e -> new RequestEntryWrapper<>(e, e.estimatedBytes())).toList());

        BufferedRequestState<MilvusSinkEntry> back =
                serializer.deserialize(serializer.getVersion(), serializer.serialize(state));

        assertThat(back.getBufferedRequestEntries()).hasSize(3);
        for (int i = 0; i < entries.size(); i++) {
            MilvusSinkEntry want = entries.get(i);
            MilvusSinkEntry got = back.getBufferedRequestEntries().get(i).getRequestEntry();
            assertThat(got).usingRecursiveComparison().isEqualTo(want);
            assertThat(back.getBufferedRequestEntries().get(i).getSize()).isEqualTo(want.estimatedBytes());
        }
    }
}
