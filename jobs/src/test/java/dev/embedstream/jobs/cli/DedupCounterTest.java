package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DedupCounterTest {

    @Test
    void sumsEveryDedupDroppedSeriesAndNothingElse() {
        String page = """
                # HELP flink_taskmanager_job_task_operator_embedstream_dedupDropped dedupDropped (scope: ...)
                # TYPE flink_taskmanager_job_task_operator_embedstream_dedupDropped gauge
                flink_taskmanager_job_task_operator_embedstream_dedupDropped{operator_name="dedup_documents",subtask_index="0",} 120.0
                flink_taskmanager_job_task_operator_embedstream_dedupDropped{operator_name="dedup_documents",subtask_index="1",} 80.0
                flink_taskmanager_job_task_operator_embedstream_dedupDroppedSomethingElse{subtask_index="0",} 5.0
                flink_taskmanager_job_task_operator_embedstream_queriesDeduplicated{subtask_index="0",} 7.0
                """;
        assertThat(DedupCounter.sum(page)).isEqualTo(200.0);
    }
}
