package io.switchboard.channel.webform;

import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Submissions per client address in a sliding window, in memory (one instance; behind several, per instance). */
@Component
class WebformRateLimiter {

    /** Bound on tracked addresses so a flood of spoofed addresses cannot exhaust memory. */
    static final int MAX_CLIENTS = 100_000;

    private final Map<String, Deque<Instant>> hits = new ConcurrentHashMap<>();
    private final WebformProperties properties;
    private final Clock clock;

    WebformRateLimiter(WebformProperties properties, org.springframework.beans.factory.ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /** Counts one attempt; false when the client is over the limit. */
    boolean allow(String client) {
        Instant now = clock.instant();
        Instant since = now.minus(properties.rateWindow());
        if (hits.size() > MAX_CLIENTS) {
            evict(since);
        }
        Deque<Instant> times = hits.computeIfAbsent(client, k -> new ArrayDeque<>());
        synchronized (times) {
            while (!times.isEmpty() && !times.peekFirst().isAfter(since)) {
                times.pollFirst();
            }
            if (times.size() >= properties.rateLimit()) {
                return false;
            }
            times.addLast(now);
            return true;
        }
    }

    /** Seconds until the client may try again. */
    long retryAfterSeconds(String client) {
        Deque<Instant> times = hits.get(client);
        if (times == null) {
            return 0;
        }
        synchronized (times) {
            Instant oldest = times.peekFirst();
            return oldest == null ? 0 : Math.max(1, java.time.Duration.between(clock.instant(),
                    oldest.plus(properties.rateWindow())).toSeconds());
        }
    }

    private void evict(Instant since) {
        for (Iterator<Map.Entry<String, Deque<Instant>>> it = hits.entrySet().iterator(); it.hasNext(); ) {
            Deque<Instant> times = it.next().getValue();
            synchronized (times) {
                if (times.isEmpty() || !times.peekLast().isAfter(since)) {
                    it.remove();
                }
            }
        }
        if (hits.size() > MAX_CLIENTS) {
            hits.clear();
        }
    }
}
