package dev.embedstream.common.model;

/** What a document event asks for. */
public enum Op {
    UPSERT,
    DELETE;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
