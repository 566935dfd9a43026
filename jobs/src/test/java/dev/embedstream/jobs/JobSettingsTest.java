package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class JobSettingsTest {

    @Test
    void budgetsOverTheProducersRequestLimitAreRefusedAtStart() {
        assertThatCode(() -> TestSettings.with()).doesNotThrowAnyException();
        assertThatThrownBy(() -> TestSettings.with("kafka.properties.max.request.size", "500000"))
                .hasMessageContaining("response.max-bytes");
        assertThatThrownBy(() -> TestSettings.with("kafka.properties.max.request.size", "540000",
                "dlq.max-payload-bytes", "524288")).hasMessageContaining("dlq.max-payload-bytes");
        assertThatCode(() -> TestSettings.with("kafka.properties.max.request.size", "300000",
                "response.max-bytes", "128kb", "dedup.reply-max-bytes", "16kb")).doesNotThrowAnyException();
    }
}
