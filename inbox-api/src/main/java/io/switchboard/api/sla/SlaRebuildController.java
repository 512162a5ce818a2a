package io.switchboard.api.sla;

import io.switchboard.store.SlaRollups;
import io.switchboard.store.StoreDurability;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /api/admin/sla/rebuild} (admins): recomputes the SLA rollups the summary reads from the
 * stored outcomes and conversations, e.g. after importing data behind the router's back. The router
 * does the same by itself when it starts and finds no rollups (ADR 0132).
 */
@RestController
class SlaRebuildController {

    private final SlaRollups rollups;
    private final StoreDurability durability;
    private final Clock clock;

    SlaRebuildController(MongoTemplate mongo, ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.rollups = new SlaRollups(mongo);
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @PostMapping("/api/admin/sla/rebuild")
    Map<String, Object> rebuild() {
        long started = System.nanoTime();
        long[] counted = rollups.rebuild(clock.instant());
        durability.commit();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("outcomes", counted[0]);
        out.put("unresolvedConversations", counted[1]);
        out.put("hours", counted[2]);
        out.put("tookMs", (System.nanoTime() - started) / 1_000_000);
        return out;
    }
}
