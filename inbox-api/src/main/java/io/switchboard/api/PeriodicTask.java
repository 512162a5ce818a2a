package io.switchboard.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A task an inbox-api bean runs every so often on a daemon thread of its own (sweeps, alarms), for the
 * bean's {@code SmartLifecycle}: a failed round is logged and the next one runs as planned.
 */
public final class PeriodicTask {

    private static final Logger log = LoggerFactory.getLogger(PeriodicTask.class);

    private final String name;
    private final Duration every;
    private final Runnable task;
    private ScheduledExecutorService timer;

    /** @param name the thread's name, also in the log line of a failed round */
    public PeriodicTask(String name, Duration every, Runnable task) {
        this.name = name;
        this.every = every;
        this.task = task;
    }

    /** Starts the rounds, the first one {@code every} from now, after {@code first} (or null) has run once. */
    public synchronized void start(Runnable first) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        if (first != null) {
            timer.execute(() -> guarded(first));
        }
        timer.scheduleWithFixedDelay(() -> guarded(task), every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("{} failed: {}", name, e.toString());
        }
    }

    public synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    public synchronized boolean isRunning() {
        return timer != null;
    }
}
