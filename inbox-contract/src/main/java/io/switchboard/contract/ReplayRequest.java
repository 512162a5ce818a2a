package io.switchboard.contract;

import java.time.Instant;
import java.util.Objects;

/**
 * Asks the router to re-normalize raw events already on the inbound topics, on
 * {@link Topics#CONTROL_REPLAY}: after a normalizer fix, stored messages are refreshed from their
 * raw events and events that were dead-lettered become messages. Writes stay idempotent, so a
 * replay never duplicates anything.
 *
 * @param requestId   id under which progress is reported
 * @param channel     the channel to replay, or null for every channel
 * @param from        first receive time to replay (inclusive)
 * @param to          last receive time to replay (exclusive); null = up to now
 * @param requestedBy the admin who asked
 */
public record ReplayRequest(int schemaVersion, String requestId, Channel channel, Instant from, Instant to,
                            String requestedBy, Instant requestedAt) {

    public static final int SCHEMA_VERSION = 1;

    public ReplayRequest {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(requestedAt, "requestedAt");
    }
}
