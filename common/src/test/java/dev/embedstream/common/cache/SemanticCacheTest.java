package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.testing.TestServers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The semantic cache's mechanics, and its false-hit rate with the real model at the default threshold. */
class SemanticCacheTest {

    private static final double DEFAULT_THRESHOLD = 0.95;
    private static final java.time.Duration TTL = java.time.Duration.ofMinutes(5);

    /** Pairs that ask the same thing in other words. */
    private static final String[][] PARAPHRASES = {
        {"how do I read a file line by line", "how to read a file one line at a time"},
        {"convert a string to an integer", "turn a string into an int"},
        {"sort a list in reverse order", "sort a list in descending order"},
        {"how to rotate log files", "how do I rotate logs"},
        {"parse command line arguments", "parsing command-line arguments"},
        {"get the current date and time", "obtain the current date and time"},
        {"remove duplicates from a list", "delete duplicate items from a list"},
        {"check if a file exists", "test whether a file exists"},
        {"make an HTTP request", "send an HTTP request"},
        {"create a temporary directory", "make a temporary directory"},
        {"join paths together", "join two paths"},
        {"compress data with gzip", "gzip compress data"},
        {"what is a context manager", "what are context managers"},
        {"how to run a subprocess and capture its output", "run a subprocess and capture output"},
        {"serialize an object to JSON", "serialise an object to JSON"},
        {"iterate over a dictionary", "loop over a dictionary"},
        {"copy a file", "how to copy a file"},
        {"generate a random number", "generate random numbers"},
        {"measure execution time of code", "time how long code takes to run"},
        {"read environment variables", "read an environment variable"},
    };

    /** Pairs that look alike but ask different things: negations and opposites, then swapped entities. */
    private static final String[][] NEAR_MISSES = {
        {"how to enable logging", "how to disable logging"},
        {"files that are readable", "files that are not readable"},
        {"start a thread", "stop a thread"},
        {"open a socket connection", "close a socket connection"},
        {"encode a string to bytes", "decode bytes to a string"},
        {"sort a list in ascending order", "sort a list in descending order"},
        {"when a key is present in a dict", "when a key is missing from a dict"},
        {"compress a file", "decompress a file"},
        {"lock a mutex", "unlock a mutex"},
        {"add an item to a set", "remove an item from a set"},
        {"read a CSV file", "read a JSON file"},
        {"parse XML documents", "parse HTML documents"},
        {"connect to a PostgreSQL database", "connect to a MySQL database"},
        {"convert Celsius to Fahrenheit", "convert Fahrenheit to Celsius"},
        {"send an email with smtplib", "receive an email with imaplib"},
        {"get the current time in UTC", "get the current time in Tokyo"},
        {"python list comprehension", "python dict comprehension"},
        {"create a TCP server", "create a UDP server"},
        {"encrypt a password with bcrypt", "hash a password with sha256"},
        {"download a file over FTP", "upload a file over FTP"},
    };

    private static final List<Hit> ANSWER = List.of(new Hit("d", 0, 0.9, "t", Map.of()));

    private static float[] unit(float... v) {
        double n = 0;
        for (float x : v) {
            n += x * x;
        }
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = (float) (v[i] / Math.sqrt(n));
        }
        return u;
    }

    @Test
    void reusesOnlyAnAnswerOfTheSameGroupAtOrAboveTheThreshold() {
        SemanticCache c = new SemanticCache(0.95, 1 << 20, TTL);
        String group = "g-" + UUID.randomUUID();
        c.put(group, unit(1, 0, 0), ANSWER);
        assertThat(c.find(group, unit(1, 0.1f, 0))).as("cos 0.995").isEqualTo(ANSWER);
        assertThat(c.find(group, unit(1, 0.5f, 0))).as("cos 0.894").isNull();
        assertThat(c.find("other-" + group, unit(1, 0, 0))).as("another tenant, epoch or filter").isNull();
        assertThat(SemanticCache.groupOf("embedstream:ret:c:t:0123456789abcdef.3:abcd:ef01"))
                .isEqualTo("embedstream:ret:c:t:0123456789abcdef.3:abcd");
    }

    @Test
    void keepsOnlyTheMostRecentEntriesOfAGroup() {
        SemanticCache c = new SemanticCache(0.999, 1 << 20, TTL);
        String group = "g-" + UUID.randomUUID();
        c.put(group, unit(0, 1, 0), ANSWER);
        for (int i = 0; i < SemanticCache.PER_GROUP; i++) {
            c.put(group, unit(1, 0, i), List.of());
        }
        assertThat(c.find(group, unit(0, 1, 0))).as("pushed out").isNull();
    }

    @Test
    void entriesExpireWithTheAnswerTtl() throws Exception {
        SemanticCache c = new SemanticCache(0.9, 1 << 20, java.time.Duration.ofMillis(300));
        String group = "g-" + UUID.randomUUID();
        c.put(group, unit(1, 0, 0), ANSWER);
        assertThat(c.find(group, unit(1, 0, 0))).isEqualTo(ANSWER);
        Thread.sleep(600);
        assertThat(c.find(group, unit(1, 0, 0))).isNull();
    }

    @Test
    void falseHitRateOnNearMissesAtTheDefaultThresholdIsMeasuredAndAtMostOneInTen() throws Exception {
        Map<String, Object> report = new LinkedHashMap<>();
        try (EmbeddingEngine engine = TestServers.openDefaultEngine()) {
            List<Double> para = cosines(engine, PARAPHRASES);
            List<Double> near = cosines(engine, NEAR_MISSES);
            long reused = para.stream().filter(c -> c >= DEFAULT_THRESHOLD).count();
            long falseHits = near.stream().filter(c -> c >= DEFAULT_THRESHOLD).count();
            report.put("threshold", DEFAULT_THRESHOLD);
            report.put("paraphrase_pairs", para.size());
            report.put("paraphrases_reused", reused);
            report.put("near_miss_pairs", near.size());
            report.put("near_miss_false_hits", falseHits);
            report.put("false_hit_rate", (double) falseHits / near.size());
            report.put("paraphrase_cosines", para);
            report.put("near_miss_cosines", near);
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "semantic-cache-measurement.json"), Json.write(report));
            System.out.println("semantic cache at " + DEFAULT_THRESHOLD + ": " + reused + "/" + para.size()
                    + " paraphrases reused, " + falseHits + "/" + near.size() + " near misses answered wrongly");
            assertThat((double) falseHits / near.size()).as("false-hit rate, cosines %s", near).isLessThanOrEqualTo(0.1);
        }
    }

    private static List<Double> cosines(EmbeddingEngine engine, String[][] pairs) {
        List<Double> out = new ArrayList<>();
        for (String[] p : pairs) {
            float[][] v = engine.embed(List.of(CacheKeys.normalise(p[0]), CacheKeys.normalise(p[1])));
            out.add(Math.round(SemanticCache.dot(v[0], v[1]) * 1000) / 1000.0);
        }
        return out;
    }
}
