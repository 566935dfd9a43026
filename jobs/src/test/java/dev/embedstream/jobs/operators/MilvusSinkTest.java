package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The Milvus sink's builder; the writer against real servers: MilvusSinkWriterITCase. */
class MilvusSinkTest {

    @Test
    void theBuilderRefusesWhatWouldReorderOrLoseWrites() {
        JobSettings s = TestSettings.with();
        assertThatThrownBy(() -> MilvusSink.builder().build()).hasMessageContaining("settings");
        assertThatThrownBy(() -> TestOperators.milvusSink(s).setMaxInFlightRequests(2).build())
                .hasMessageContaining("one request in flight");
        assertThatThrownBy(() -> TestOperators.milvusSink(s).setMaxBufferedRequests(10).setMaxBatchSize(10).build())
                .hasMessageContaining("more entries than one batch");
        assertThatThrownBy(() -> TestOperators.milvusSink(s).setMaxRetryTime(Duration.ofMinutes(10)).build())
                .hasMessageContaining("request timeout");
    }
}
