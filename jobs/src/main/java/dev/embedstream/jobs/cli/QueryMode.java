package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Retrieval;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A query's retrieval mode and, for hybrid, its fusion, as the query JSON carries them (DESIGN
 * section 2): what {@code query --mode/--fusion} sends once and {@code eval --mode/--fusion} sends
 * per mode. The CLI refuses what it can tell is wrong (an unknown mode, a malformed fusion, a
 * fusion without hybrid) before anything is sent; the job stays the judge of the rest.
 *
 * @param mode {@code dense}, {@code hybrid} or {@code keyword}; null sends none (the job's default)
 * @param fusion the {@code fusion} object, or null (the job's default fusion for hybrid)
 */
record QueryMode(String mode, ObjectNode fusion) {

    static final List<String> MODES = Arrays.stream(Retrieval.Mode.values()).map(Retrieval.Mode::label).toList();

    /** The job's own default: the query carries no mode. */
    static final QueryMode DEFAULT = new QueryMode(null, null);

    QueryMode {
        if (fusion != null && !"hybrid".equals(mode)) {
            throw new IllegalArgumentException("--fusion applies to the hybrid mode only"
                    + (mode == null ? "; add --mode hybrid" : ", not " + mode));
        }
    }

    /** Puts {@code mode} and {@code fusion} into {@code query}, when there are any. */
    void applyTo(ObjectNode query) {
        if (mode != null) {
            query.put("mode", mode);
        }
        if (fusion != null) {
            query.set("fusion", fusion);
        }
    }

    /** {@code dense}, {@code hybrid}, {@code hybrid/rrf/60}, {@code hybrid/weighted/0.7/0.3}, or {@code default}. */
    String label() {
        if (mode == null) {
            return "default";
        }
        if (fusion == null) {
            return mode;
        }
        StringBuilder sb = new StringBuilder(mode).append('/').append(fusion.path("method").asText());
        fusion.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("method")) {
                sb.append('/').append(e.getValue().asText());
            }
        });
        return sb.toString();
    }

    /** {@code --mode}: one of {@link #MODES}, with a message that lists them. */
    static final class ModeConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (Retrieval.Mode.of(value) == null) {
                throw new TypeConversionException("unknown mode '" + value + "' (use dense, hybrid or keyword)");
            }
            return value;
        }
    }

    private static final Pattern RRF = Pattern.compile("rrf(?::(\\d{1,9}))?");
    private static final Pattern WEIGHTED = Pattern.compile("weighted:([0-9.]+),([0-9.]+)");

    /**
     * {@code --fusion}: {@code rrf} (the job's k), {@code rrf:K} (reciprocal rank fusion with
     * constant K) or {@code weighted:D,W} (dense leg weight D, keyword leg weight W, each 0..1,
     * not both 0).
     */
    static final class FusionConverter implements ITypeConverter<ObjectNode> {
        @Override
        public ObjectNode convert(String value) {
            ObjectNode f = Json.mapper().createObjectNode();
            Matcher rrf = RRF.matcher(value);
            if (rrf.matches()) {
                f.put("method", "rrf");
                if (rrf.group(1) != null) {
                    f.put("k", checked(value, () -> Retrieval.rrf(Integer.parseInt(rrf.group(1)))).k());
                }
                return f;
            }
            Matcher weighted = WEIGHTED.matcher(value);
            if (weighted.matches()) {
                Retrieval w = checked(value, () -> Retrieval.weighted(Double.parseDouble(weighted.group(1)),
                        Double.parseDouble(weighted.group(2))));
                return f.put("method", "weighted").put("dense", w.denseWeight()).put("keyword", w.keywordWeight());
            }
            throw new TypeConversionException("unknown fusion '" + value + "' (use rrf, rrf:K or weighted:DENSE,KEYWORD,"
                    + " e.g. rrf:60 or weighted:0.7,0.3)");
        }

        /** The fusion as the job would read it, or the job's own objection as the option's. */
        private static Retrieval checked(String value, Supplier<Retrieval> fusion) {
            try {
                return fusion.get();
            } catch (IllegalArgumentException e) { // NumberFormatException included
                throw new TypeConversionException("'" + value + "': " + e.getMessage());
            }
        }
    }
}
