package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ThreadPriorityTest {

    /** Field 19 of /proc/thread-self/stat: the calling thread's nice value. */
    private static int niceOfThisThread() throws Exception {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[16]); // fields after the name start at field 3
    }

    @Test
    void documentThreadRunsNicerWhileOtherThreadsKeepTheirPriority() throws Exception {
        int before = niceOfThisThread();
        AtomicInteger inside = new AtomicInteger(-1);
        Thread t = new Thread(() -> {
            try {
                assertThat(ThreadPriority.niceCurrentThread(10)).isTrue();
                inside.set(niceOfThisThread());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        t.join();
        assertThat(inside.get()).isEqualTo(10);
        assertThat(niceOfThisThread()).isEqualTo(before);
    }

    @Test
    void zeroLeavesThePriorityAlone() throws Exception {
        int before = niceOfThisThread();
        assertThat(ThreadPriority.niceCurrentThread(0)).isFalse();
        assertThat(niceOfThisThread()).isEqualTo(before);
    }
}
