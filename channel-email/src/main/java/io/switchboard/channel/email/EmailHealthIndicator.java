package io.switchboard.channel.email;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each mailbox's sync state under {@code /actuator/health} (component {@code emailAdapter}): state
 * ({@code ok}, {@code failing}, {@code out-of-service}), connected, IDLE or polling, last completed sync,
 * messages pending, ingested, the type of the last failure and since when; and the payload store of large
 * messages ({@code payloadStore}: configured or not, stored, last error). Never an address or a password.
 *
 * <p>A mailbox that cannot connect or sync for longer than {@code unhealthy-after} (PT5M) makes the
 * component OUT_OF_SERVICE: mail is not being fetched, which is what an operator must hear about. Shorter
 * outages are the ordinary reconnect loop and leave it UP. OUT_OF_SERVICE rather than DOWN because the
 * cause is outside the product (the mail server, the network, a password changed): the adapter deployed
 * alone answers 503 all the same, while standalone ranks OUT_OF_SERVICE below UP in its status order so
 * that agents keep the other channels and the UI when one mail server is gone (its
 * application.properties).
 */
@Component("emailAdapterHealthIndicator")
class EmailHealthIndicator implements HealthIndicator {

    private final EmailPoller poller;
    private final EmailPayloadStore payloads;
    private final Duration unhealthyAfter;
    private final Clock clock;

    EmailHealthIndicator(EmailPoller poller, EmailPayloadStore payloads, EmailProperties properties,
                         ObjectProvider<Clock> clock) {
        this.poller = poller;
        this.payloads = payloads;
        this.unhealthyAfter = properties.unhealthyAfter();
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Override
    public Health health() {
        Instant now = clock.instant();
        Map<String, Object> details = new LinkedHashMap<>();
        boolean outOfService = false;
        for (Map.Entry<String, EmailPoller.Status> e : poller.status().entrySet()) {
            EmailPoller.Status s = e.getValue();
            boolean stalled = s.stalledSince() != null && Duration.between(s.stalledSince(), now).compareTo(unhealthyAfter) > 0;
            // a worker still connecting or syncing for the first time has no error yet: it is only failing once it has one
            String state = stalled ? "out-of-service" : s.lastError() != null ? "failing" : "ok";
            outOfService |= stalled;
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("state", state);
            d.put("connected", s.connected());
            d.put("mode", s.idle() ? "idle" : "sync/poll");
            d.put("lastSyncAt", s.lastSyncAt() == null ? null : s.lastSyncAt().toString());
            d.put("pending", s.pending());
            d.put("ingested", s.ingested());
            if (s.stalledSince() != null) {
                d.put("notInSyncSince", s.stalledSince().toString());
            }
            if (s.errorType() != null) {
                d.put("errorType", s.errorType());
            }
            if (s.lastError() != null) {
                d.put("lastError", s.lastError());
            }
            details.put(e.getKey(), d);
        }
        Health.Builder health = outOfService ? Health.status(Status.OUT_OF_SERVICE) : Health.up();
        return health.withDetail("mailboxes", details).withDetail("unhealthyAfter", unhealthyAfter.toString())
                .withDetail("payloadStore", payloads.status()).build();
    }
}
