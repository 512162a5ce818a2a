package io.switchboard.contract;

import java.time.Instant;
import java.util.Objects;

/**
 * An SLA warning or breach, on {@link Topics#SLA_EVENTS}, keyed by conversation id. Published once
 * per conversation, metric, cycle and type; {@code eventId} is that identity
 * ({@code <conversationId>:<metric>:<cycle>:<warning|breach>}), so a consumer that sees it twice
 * (only possible after a crash between the broker's acknowledgement and the router's record of it) dedups on it.
 *
 * @param type         {@code sla.warning} (a share of the target used, default 80%) or {@code sla.breached}
 * @param metric       {@code firstResponse}, {@code nextResponse} or {@code resolution}
 * @param cycle        {@code 1} for first response and resolution; for next response the epoch millisecond the
 *                     customer started waiting
 * @param scheduledFor when it was due to fire (the warning time, or the deadline)
 * @param firedAt      when it was published
 * @param late         true when it fired more than a second after {@code scheduledFor} (e.g. the router was down)
 */
public record SlaEvent(
        int schemaVersion,
        String eventId,
        String type,
        String conversationId,
        String metric,
        String cycle,
        String policy,
        Channel channel,
        String account,
        String priority,
        String assignee,
        Instant dueAt,
        Instant scheduledFor,
        Instant firedAt,
        boolean late) {

    public static final int SCHEMA_VERSION = 1;

    public static final String WARNING = "sla.warning";
    public static final String BREACHED = "sla.breached";

    public SlaEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(metric, "metric");
        Objects.requireNonNull(dueAt, "dueAt");
        Objects.requireNonNull(scheduledFor, "scheduledFor");
        Objects.requireNonNull(firedAt, "firedAt");
    }
}
