package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two tenants that use the same doc_ids and the same request_ids, in the whole job (parallelism 2,
 * retrieval cache on) against the real Kafka, Milvus Lite and redis-server. Tenant "globex" attacks
 * tenant "acme" every way a producer can: deletes, tombstones and upserts of acme's doc_ids,
 * acme's request ids, acme's question texts (to hit acme's cached answers), and filter values
 * crafted to escape into the Milvus expression. Every attack must fail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileTenantsITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String ACME = "acme";
    private static final String GLOBEX = "globex";
    private static final String SECRET = "The acme launch code is avocado seven, kept in the vault.";
    private static final String QUESTION = "what is the launch code kept in the vault";
    /** The same document, the same doc_id, in both tenants: each must keep its own copy. */
    private static final Doc IN_BOTH = new Doc("shared-4", "Both tenants own this exact sentence about lighthouses.", "both");

    private final TestJob test = new TestJob("tenants");
    private KafkaTestSupport kafka;
    private MilvusStore milvus;
    private JobClient job;
    /** Every response, by request id, in the order they were written. */
    private Map<String, List<JsonNode>> responses;

    private static String doc(String tenant, String id, String text, String owner) {
        return Json.write(Map.of("doc_id", id, "tenant", tenant, "text", text, "metadata", Map.of("owner", owner)));
    }

    private static String query(String tenant, String id, String text, Map<String, Object> filter) {
        Map<String, Object> q = new LinkedHashMap<>(Map.of("request_id", id, "tenant", tenant, "text", text, "top_k", 10));
        if (filter != null) {
            q.put("filter", filter);
        }
        return Json.write(q);
    }

    private void send(String tenant, String id, String value) {
        kafka.send(test.documents, tenant + ":" + id, value);
    }

    /** A document to upsert: its doc_id, its text and the owner its metadata names. */
    private record Doc(String id, String text, String owner) {}

    /** Upserts a tenant's documents in order and waits until Milvus holds one row of the tenant for each. */
    private void store(String tenant, Doc... docs) throws InterruptedException {
        for (Doc d : docs) {
            send(tenant, d.id(), doc(tenant, d.id(), d.text(), d.owner()));
        }
        TestJob.awaitTrue(() -> milvus.count("tenant == \"" + tenant + "\"") == docs.length, WAIT);
    }

    private void ask(String tenant, String requestId, String text, Map<String, Object> filter) {
        kafka.send(test.queries, requestId, query(tenant, requestId, text, filter));
    }

    /** rq-1 and rq-2: what acme asks first, and globex then asks again with the same request ids and texts. */
    private void askAcmesQuestions(String tenant) {
        ask(tenant, "rq-1", QUESTION, null);
        ask(tenant, "rq-2", QUESTION + " please", null);
    }

    private Map<String, Object> row(String tenant, String docId) {
        List<Map<String, Object>> rows = milvus.query("tenant == \"" + tenant + "\" and doc_id == \"" + docId + "\"",
                List.of("chunk_id", "text", "metadata"));
        return rows.isEmpty() ? null : rows.get(0);
    }

    @BeforeAll
    void runTheAttacks() throws Exception {
        kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
        milvus = test.milvus();
        test.createTopics(kafka);
        job = test.start("--redis.uri", TestServers.redisUri(), "--cache.retrieval.epoch-refresh", "200ms",
                "--milvus.write.flush-interval", "100ms");

        store(ACME, new Doc("shared-1", SECRET, ACME),
                new Doc("shared-2", "Acme revenue grew eleven percent in the third quarter.", ACME),
                new Doc("shared-3", "Acme keeps its anvils in warehouse nine.", ACME), IN_BOTH);

        // acme asks first, so its answers are in the retrieval cache before globex asks the same.
        askAcmesQuestions(ACME);
        awaitResponses(Set.of("rq-1", "rq-2"));
        ask(ACME, "rq-3", QUESTION + " please", null);
        awaitResponses(Set.of("rq-3"));

        // globex: delete and tombstone acme's doc_ids, then overwrite them: each attack is followed
        // by an upsert of the same key, so once globex's rows are in Milvus every attack was applied.
        send(GLOBEX, "shared-1", Json.write(Map.of("doc_id", "shared-1", "tenant", GLOBEX, "op", "delete")));
        kafka.send(test.documents, GLOBEX + ":shared-3", null);
        store(GLOBEX, new Doc("shared-1", "Globex sells seashells by the seashore.", GLOBEX),
                new Doc("shared-3", "Globex paints its hammocks orange.", GLOBEX),
                new Doc("shared-2", "Globex bought a lighthouse and a hammock.", GLOBEX), IN_BOTH);

        // globex: acme's request ids and acme's question texts, and filters that try to escape.
        askAcmesQuestions(GLOBEX);
        ask(GLOBEX, "rq-inject-1", QUESTION, Map.of("owner", "globex\") or (tenant == \"acme"));
        ask(GLOBEX, "rq-inject-2", QUESTION, Map.of("owner", List.of("x\" or tenant != \"globex", "\\\" or 1 == 1 or \\\"")));
        // acme itself: the same request id for another question is a conflict, never the stored answer.
        ask(ACME, "rq-1", "where are the anvils", null);
        awaitResponses(Set.of("rq-inject-1", "rq-inject-2"));
        TestJob.awaitTrue(() -> {
            awaitResponses(Set.of("rq-1", "rq-2"));
            return answersOf("rq-1", GLOBEX).size() == 1 && answersOf("rq-2", GLOBEX).size() == 1
                    && answersOf("rq-1", ACME).size() >= 2;
        }, WAIT);
    }

    @AfterAll
    void stop() throws Exception {
        job.cancel().get();
        milvus.close();
        kafka.close();
    }

    private void awaitResponses(Set<String> ids) {
        List<ConsumerRecord<String, String>> records = kafka.readUntil(test.responses,
                rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(ids), WAIT);
        Map<String, List<JsonNode>> byId = new LinkedHashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            try {
                byId.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Json.parse(r.value()));
            } catch (Exception e) {
                throw new AssertionError("unreadable response " + r.value(), e);
            }
        }
        responses = byId;
    }

    private List<JsonNode> answersOf(String requestId, String tenant) {
        return responses.getOrDefault(requestId, List.of()).stream()
                .filter(r -> tenant.equals(r.path("tenant").asText())).toList();
    }

    private static List<String> owners(JsonNode response) {
        List<String> owners = new ArrayList<>();
        response.path("hits").forEach(h -> owners.add(h.path("metadata").path("owner").asText()));
        return owners;
    }

    @Test
    void aTenantsDeleteOrTombstoneNeverRemovesAnotherTenantsDocument() {
        assertThat(row(ACME, "shared-1")).as("acme's shared-1 after globex deleted its own").isNotNull();
        assertThat(row(ACME, "shared-1").get("text")).isEqualTo(SECRET);
        assertThat(row(ACME, "shared-3")).as("acme's shared-3 after globex's tombstone").isNotNull();
    }

    @Test
    void aTenantsUpsertOfTheSameDocIdNeverOverwritesAnotherTenantsRows() {
        assertThat((String) row(ACME, "shared-2").get("text")).startsWith("Acme revenue");
        assertThat((String) row(GLOBEX, "shared-2").get("text")).startsWith("Globex bought");
        assertThat(row(ACME, "shared-2").get("chunk_id")).isNotEqualTo(row(GLOBEX, "shared-2").get("chunk_id"));
    }

    @Test
    void theSameDocumentInTwoTenantsIsStoredForEach() {
        assertThat(row(ACME, "shared-4")).isNotNull();
        assertThat(row(GLOBEX, "shared-4")).as("globex's copy is not deduplicated against acme's").isNotNull();
    }

    @Test
    void aQueryNeverReturnsAnotherTenantsDocuments() {
        for (List<JsonNode> answers : responses.values()) {
            for (JsonNode a : answers) {
                String tenant = a.path("tenant").asText();
                assertThat(owners(a)).as("hits of %s", a).allMatch(o -> o.equals(tenant) || o.equals("both"));
            }
        }
        assertThat(owners(answersOf("rq-1", ACME).get(0))).contains(ACME);
    }

    @Test
    void aRequestIdReusedByAnotherTenantIsAnsweredWithThatTenantsOwnHits() {
        JsonNode globex = answersOf("rq-1", GLOBEX).get(0);
        assertThat(globex.get("status").asText()).isEqualTo("ok");
        assertThat(globex.get("hits")).isNotEmpty();
        assertThat(globex.toString()).doesNotContain("avocado");
    }

    @Test
    void aCachedAnswerIsNeverServedToAnotherTenant() {
        JsonNode acmeRepeat = answersOf("rq-3", ACME).get(0);
        assertThat(acmeRepeat.get("cache").asText()).as("acme's own repeat of the text is a hit").isEqualTo("hit");
        JsonNode globex = answersOf("rq-2", GLOBEX).get(0);
        assertThat(globex.get("cache").asText()).isEqualTo("miss");
        assertThat(globex.toString()).doesNotContain("avocado").doesNotContain("Acme");
    }

    @Test
    void aRepeatedRequestIdWithADifferentQueryIsAnsweredRequestIdConflict() {
        List<JsonNode> acme = answersOf("rq-1", ACME);
        assertThat(acme.get(0).get("status").asText()).isEqualTo("ok");
        assertThat(acme.subList(1, acme.size())).allSatisfy(r -> {
            assertThat(r.get("status").asText()).isEqualTo("error");
            assertThat(r.get("error").get("code").asText()).isEqualTo("request_id_conflict");
            assertThat(r.has("hits") && r.get("hits").size() > 0).as("a conflict carries no hits").isFalse();
        });
    }

    @Test
    void aFilterValueCanNeverBecomeAnInjectedExpression() {
        for (String id : List.of("rq-inject-1", "rq-inject-2")) {
            JsonNode r = answersOf(id, GLOBEX).get(0);
            assertThat(r.get("status").asText()).isEqualTo("ok");
            assertThat(r.get("hits")).as("no document has such an owner").isEmpty();
        }
    }
}
