package io.switchboard.api.sla;

import io.switchboard.store.Conversation;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

/**
 * The SLA state of a conversation as the API shows it (INTERFACE.md): read from the clocks the
 * router's SLA tracker stored on the conversation ({@code sla}); until the tracker has seen it,
 * computed from the conversation's timestamps under the default 24/7 policy. Plain arithmetic on
 * a given "now", no clock of its own.
 */
public record SlaView(String policy, Metric firstResponse, Metric nextResponse, Metric resolution) {

    /** @param dueAt null while the clock is not running; stoppedAt when it was met or ended */
    public record Metric(Instant dueAt, Instant stoppedAt, boolean breached) {

        static Metric of(Instant started, Duration target, Instant stoppedAt, Instant now) {
            if (started == null) {
                return new Metric(null, stoppedAt, false);
            }
            Instant due = started.plus(target);
            Instant end = stoppedAt == null ? now : stoppedAt;
            return new Metric(due, stoppedAt, end.isAfter(due));
        }

        /** A stored clock: breached once fired or stopped late, or as soon as a running deadline passed. */
        static Metric stored(Object raw, Instant now) {
            if (!(raw instanceof Map<?, ?> clock)) {
                return new Metric(null, null, false);
            }
            Instant due = instant(clock.get("dueAt"));
            Instant stopped = instant(clock.get("stoppedAt"));
            boolean running = stopped == null && clock.get("runningSince") != null;
            boolean breached = Boolean.TRUE.equals(clock.get("breached")) || (running && due != null && now.isAfter(due));
            return new Metric(running || stopped != null ? due : null, stopped, breached);
        }
    }

    public static SlaView of(Conversation c, SlaTargets targets, Instant now) {
        Map<String, Object> stored = c.sla();
        if (stored != null && stored.get("policy") != null) {
            return new SlaView(String.valueOf(stored.get("policy")), Metric.stored(stored.get("firstResponse"), now),
                    Metric.stored(stored.get("nextResponse"), now), Metric.stored(stored.get("resolution"), now));
        }
        Instant first = c.firstCustomerMessageAt();
        Metric firstResponse = Metric.of(first, targets.firstResponse(), c.firstResponseAt(), now);
        // Next response runs only after a first response, while the customer waits again.
        Metric nextResponse = c.firstResponseAt() != null && c.awaitingSince() != null
                ? Metric.of(c.awaitingSince(), targets.nextResponse(), null, now)
                : new Metric(null, null, false);
        Instant resolvedAt = Conversation.RESOLVED.equals(c.status()) ? c.resolvedAt() : null;
        Metric resolution = Metric.of(first, targets.resolution(), resolvedAt, now);
        return new SlaView("default", firstResponse, nextResponse, resolution);
    }

    /** Field of the earliest running deadline, stored by the router's SLA tracker: the queue sorts by it. */
    public static final String NEXT_DUE_AT = "sla.nextDueAt";

    /** The earliest running deadline as stored, or {@link Instant#MAX} when none. */
    public static Instant nextDueAt(Conversation c) {
        Instant due = c.sla() == null ? null : instant(c.sla().get("nextDueAt"));
        return due == null ? Instant.MAX : due;
    }

    static Instant instant(Object v) {
        if (v instanceof Date d) {
            return d.toInstant();
        }
        if (v instanceof Instant i) {
            return i;
        }
        return null;
    }
}
