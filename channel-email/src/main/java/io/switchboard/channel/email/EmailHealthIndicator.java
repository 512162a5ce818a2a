package io.switchboard.channel.email;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each mailbox's sync state under {@code /actuator/health} (component {@code emailAdapter}):
 * connected, IDLE or polling, last completed sync, messages pending, last error; and the payload store
 * of large messages ({@code payloadStore}: configured or not, stored, last error). An unreachable
 * mail server (or payload store) does not take the product DOWN (agents keep working on other channels); the
 * details and the {@code switchboard.email.*} metrics show it.
 */
@Component("emailAdapterHealthIndicator")
class EmailHealthIndicator implements HealthIndicator {

    private final EmailPoller poller;
    private final EmailPayloadStore payloads;

    EmailHealthIndicator(EmailPoller poller, EmailPayloadStore payloads) {
        this.poller = poller;
        this.payloads = payloads;
    }

    @Override
    public Health health() {
        Map<String, Object> details = new LinkedHashMap<>();
        poller.status().forEach((account, s) -> {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("connected", s.connected());
            d.put("mode", s.idle() ? "idle" : "sync/poll");
            d.put("lastSyncAt", s.lastSyncAt() == null ? null : s.lastSyncAt().toString());
            d.put("pending", s.pending());
            d.put("ingested", s.ingested());
            if (s.lastError() != null) {
                d.put("lastError", s.lastError());
            }
            details.put(account, d);
        });
        return Health.up().withDetail("mailboxes", details).withDetail("payloadStore", payloads.status()).build();
    }
}
