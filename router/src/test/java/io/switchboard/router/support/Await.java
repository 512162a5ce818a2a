package io.switchboard.router.support;

import java.time.Duration;
import java.util.function.Supplier;

/** Polls until a condition holds; fails with the last value seen. */
public final class Await {

    public static <T> T until(Supplier<T> probe, java.util.function.Predicate<T> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = probe.get();
            if (done.test(last)) {
                return last;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("condition not met within " + timeout + "; last value: " + last);
    }

    private Await() {
    }
}
