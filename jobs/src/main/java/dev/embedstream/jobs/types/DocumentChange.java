package dev.embedstream.jobs.types;

import dev.embedstream.common.model.Op;

/**
 * A validated document event on its way through the job. Metadata travels as a JSON object string
 * so Flink serializes it as a plain field; {@code contentHash} is the sha256 hex of the text.
 */
public record DocumentChange(
        String docId, Op op, String tenant, String text, String metadataJson, String contentHash) {}
