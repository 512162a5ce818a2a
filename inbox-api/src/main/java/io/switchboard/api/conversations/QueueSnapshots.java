package io.switchboard.api.conversations;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The order of a queue listing as it was at its first page, so that later pages follow that order
 * even while SLA deadlines and activity times move (a keyset cursor alone would skip a conversation
 * whose key moved behind the cursor and repeat one whose key moved ahead of it).
 *
 * <p>Kept in memory: one per first page that has more pages, up to {@link #MAX_IDS} positions each,
 * {@link #MAX_SNAPSHOTS} in all (least recently used go first), for {@link #TTL}. Nothing is
 * written to the store, so the workspace reloading its queue on every live event costs no write. A
 * cursor whose snapshot is gone (expired, evicted, or another API instance) falls back to its
 * keyset position, which is still stable under inserts (docs/ui.md, "Queue order and paging").
 */
@Component
class QueueSnapshots {

    static final int MAX_IDS = 500;
    static final int MAX_SNAPSHOTS = 200;
    static final Duration TTL = Duration.ofMinutes(15);

    /**
     * @param owner       user name: a cursor works only for whoever listed
     * @param fingerprint the listing's parameters (not cursor or limit): a cursor used with other filters
     *                    gets no snapshot
     * @param order       the listing after the first page, as it was then (positions, so that a cursor
     *                    can name where it stands should the snapshot be gone by the next page)
     * @param more        the listing went on beyond {@link #MAX_IDS}: after the last position, pages continue by keyset
     */
    record Snapshot(String owner, String fingerprint, List<QueueOrder.Position> order, boolean more, Instant createdAt) {
    }

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Snapshot> byToken = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Snapshot> eldest) {
            return size() > MAX_SNAPSHOTS;
        }
    };

    QueueSnapshots(ObjectProvider<Clock> clock) {
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    synchronized String put(String owner, String fingerprint, List<QueueOrder.Position> order, boolean more) {
        byte[] raw = new byte[12];
        random.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        byToken.put(token, new Snapshot(owner, fingerprint, List.copyOf(order), more, clock.instant()));
        return token;
    }

    synchronized Optional<Snapshot> get(String token, String owner, String fingerprint) {
        Snapshot s = byToken.get(token);
        if (s == null) {
            return Optional.empty();
        }
        if (s.createdAt().plus(TTL).isBefore(clock.instant())) {
            byToken.remove(token);
            return Optional.empty();
        }
        return s.owner().equals(owner) && s.fingerprint().equals(fingerprint) ? Optional.of(s) : Optional.empty();
    }
}
