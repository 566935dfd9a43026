package dev.embedstream.common.embed;

import java.io.Serializable;
import java.nio.file.Path;

/**
 * A model ready to load: its ONNX file and tokenizer on local disk, how to pool, and a fingerprint
 * that changes whenever the vectors could (model id, file hash, pooling, token window).
 */
public record ModelSpec(String name, Path onnx, Path tokenizer, Pooling pooling, int maxTokens, String sha256)
        implements Serializable {

    public String fingerprint() {
        return name + ":" + sha256.substring(0, 16) + ":" + pooling.name().toLowerCase() + ":" + maxTokens;
    }
}
