package dev.embedstream.common;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.description.BlockElement;
import org.apache.flink.configuration.description.Description;
import org.apache.flink.configuration.description.TextElement;
import org.apache.flink.util.TimeUtils;

/**
 * The configuration reference (docs/configuration.md) rendered from {@link EmbedstreamOptions}, so
 * key, default and description have one home: the option. Rows are sorted by key, which groups
 * them by concern (batch, cache, chunk, dedup, kafka, limits, milvus, model, query, redis, ...).
 */
public final class ConfigurationReference {

    public static final String BEGIN = "<!-- BEGIN generated from EmbedstreamOptions: edit the options, then run scripts/config-reference.sh -->";
    public static final String END = "<!-- END generated -->";

    private ConfigurationReference() {}

    /** Every option of {@link EmbedstreamOptions}. */
    public static List<ConfigOption<?>> options() {
        List<ConfigOption<?>> out = new ArrayList<>();
        for (Field f : EmbedstreamOptions.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                try {
                    out.add((ConfigOption<?>) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e); // public static fields are readable
                }
            }
        }
        out.sort(Comparator.comparing(ConfigOption::key));
        return out;
    }

    /** The markdown table, between its markers. */
    public static String table() {
        StringBuilder md = new StringBuilder(BEGIN).append('\n');
        md.append("| key | default | meaning |\n|---|---|---|\n");
        for (ConfigOption<?> o : options()) {
            md.append("| `").append(o.key()).append("` | ").append(defaultOf(o)).append(" | ")
                    .append(text(o.description()).replace("|", "\\|")).append(" |\n");
        }
        return md.append(END).toString();
    }

    /** {@code docs} with its generated table replaced by the current one. */
    public static String regenerate(String docs) {
        int begin = docs.indexOf(BEGIN);
        int end = docs.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("docs/configuration.md lacks the generated-table markers");
        }
        return docs.substring(0, begin) + table() + docs.substring(end + END.length());
    }

    /** An option's description as plain text (ours are single text blocks without placeholders). */
    public static String text(Description description) {
        StringBuilder out = new StringBuilder();
        for (BlockElement block : description.getBlocks()) {
            if (!(block instanceof TextElement t) || !t.getElements().isEmpty()) {
                throw new IllegalArgumentException("only plain-text descriptions are rendered: " + block);
            }
            out.append(t.getFormat());
        }
        return out.toString();
    }

    static String defaultOf(ConfigOption<?> o) {
        if (!o.hasDefaultValue()) {
            return "(none)";
        }
        Object v = o.defaultValue();
        String text = v instanceof Duration d ? TimeUtils.formatWithHighestUnit(d) : String.valueOf(v);
        // A default computed from the machine (the temp directory) is shown as what it is made of.
        String tmp = System.getProperty("java.io.tmpdir");
        if (tmp != null && text.startsWith(tmp)) {
            text = "${java.io.tmpdir}" + text.substring(tmp.length());
        }
        return "`" + text + "`";
    }
}
