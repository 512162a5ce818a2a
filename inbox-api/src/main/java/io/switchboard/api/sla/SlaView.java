package io.switchboard.api.sla;

import io.switchboard.store.Conversation;

import java.time.Duration;
import java.time.Instant;

/**
 * The SLA state of a conversation under the default 24/7 policy, computed from the conversation's
 * timestamps: plain arithmetic on a given "now", no clock of its own.
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
    }

    public static SlaView of(Conversation c, SlaTargets targets, Instant now) {
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
}
