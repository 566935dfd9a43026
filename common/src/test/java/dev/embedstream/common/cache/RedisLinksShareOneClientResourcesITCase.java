package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.testing.TestServers;
import io.lettuce.core.resource.ClientResources;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The links of all subtasks in a JVM share one lettuce ClientResources (one set of Netty thread
 * pools), which lives exactly as long as some link uses it: against a real redis-server.
 */
class RedisLinksShareOneClientResourcesITCase {

    /** Lettuce's I/O event loop threads, whatever the transport (nio, epoll, kqueue, io_uring). */
    private static final Pattern IO_THREAD = Pattern.compile("lettuce-\\w+EventLoop-.*");

    private static RedisLink link(String name) {
        return new RedisLink(name, TestServers.redisUri(), Duration.ofSeconds(1));
    }

    private static boolean answers(RedisLink link) {
        return "PONG".equals(link.call("ping", redis -> redis.ping()).orElse(null));
    }

    private static List<String> lettuceThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive).map(Thread::getName).filter(n -> n.startsWith("lettuce-")).toList();
    }

    @Test
    void subtasksShareOneClientResourcesThatOnlyTheLastCloseShutsDown() throws Exception {
        assertThat(SharedClientResources.users()).as("no link of an earlier test is left open").isZero();
        int subtasks = 6;
        // Subtasks open at once, each on its own thread.
        ExecutorService threads = Executors.newFixedThreadPool(subtasks);
        List<Future<RedisLink>> opening = new ArrayList<>();
        for (int i = 0; i < subtasks; i++) {
            String name = "subtask-" + i;
            opening.add(threads.submit(() -> {
                RedisLink l = link(name);
                assertThat(answers(l)).as(name + " answers").isTrue();
                return l;
            }));
        }
        List<RedisLink> links = new ArrayList<>();
        for (Future<RedisLink> f : opening) {
            links.add(f.get(30, TimeUnit.SECONDS));
        }
        threads.shutdown();
        ClientResources shared = links.get(0).resources();
        assertThat(shared).isNotNull();
        assertThat(links).allSatisfy(l -> assertThat(l.resources()).isSameAs(shared));
        assertThat(SharedClientResources.users()).isEqualTo(subtasks);
        assertThat(lettuceThreads().stream().filter(n -> IO_THREAD.matcher(n).matches()))
                .as("I/O threads for %d connections", subtasks)
                .isNotEmpty().hasSizeLessThanOrEqualTo(SharedClientResources.IO_THREADS);

        for (RedisLink l : links.subList(0, subtasks - 1)) {
            l.close();
        }
        RedisLink last = links.get(subtasks - 1);
        assertThat(shared.eventExecutorGroup().isShuttingDown()).as("still in use by one link").isFalse();
        assertThat(answers(last)).as("the last link still answers").isTrue();

        last.close();
        assertThat(SharedClientResources.users()).isZero();
        assertThat(shared.eventExecutorGroup().isTerminated()).as("shut down by the last close, which waited").isTrue();
        long until = System.currentTimeMillis() + 5_000;
        while (!lettuceThreads().isEmpty() && System.currentTimeMillis() < until) {
            Thread.sleep(20);
        }
        assertThat(lettuceThreads()).as("no lettuce thread outlives the last link (it would pin the job's classes)").isEmpty();

        try (RedisLink next = link("after-restart")) {
            assertThat(answers(next)).as("a link after the last close connects").isTrue();
            assertThat(next.resources()).as("on fresh resources").isNotNull().isNotSameAs(shared);
            assertThat(SharedClientResources.users()).isEqualTo(1);
        }
        assertThat(SharedClientResources.users()).isZero();
    }

    @Test
    void aLinkClosedTwiceOrUsedAfterCloseReleasesItsShareOnce() {
        try (RedisLink other = link("other")) {
            assertThat(answers(other)).isTrue();
            RedisLink twice = link("twice");
            assertThat(answers(twice)).isTrue();
            assertThat(SharedClientResources.users()).isEqualTo(2);
            twice.close();
            twice.close();
            assertThat(SharedClientResources.users()).isEqualTo(1);
            assertThat(answers(twice)).as("a closed link answers nothing").isFalse();
            assertThat(SharedClientResources.users()).as("and takes no share again").isEqualTo(1);
            assertThat(answers(other)).as("the other link is untouched").isTrue();
        }
        assertThat(SharedClientResources.users()).isZero();
    }

    @Test
    void aLinkThatNeverReachedRedisStillReleasesItsShare() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        RedisLink dead = new RedisLink("dead", "redis://127.0.0.1:" + closedPort, Duration.ofMillis(100));
        assertThat(answers(dead)).isFalse();
        assertThat(SharedClientResources.users()).isEqualTo(1);
        ClientResources resources = dead.resources();
        dead.close();
        assertThat(SharedClientResources.users()).isZero();
        assertThat(resources.eventExecutorGroup().isTerminated()).isTrue();
    }

    @Test
    void aLinkNeverUsedHoldsNoShare() {
        RedisLink idle = link("idle");
        assertThat(SharedClientResources.users()).isZero();
        assertThat(idle.resources()).isNull();
        idle.close();
        assertThat(SharedClientResources.users()).isZero();
    }
}
