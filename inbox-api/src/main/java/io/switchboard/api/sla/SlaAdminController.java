package io.switchboard.api.sla;

import io.switchboard.api.ApiException;
import io.switchboard.contract.ContractJson;
import io.switchboard.store.StoreDurability;
import org.bson.Document;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and replaces the SLA configuration (admin only, by the security configuration of
 * {@code /api/admin/**}). Each change is stored as a new version in {@code slaConfigs} and never
 * edited, so the router can keep timing a cycle under the version it started with: a change
 * applies to clocks started after it.
 */
@RestController
@RequestMapping("/api/admin/sla")
class SlaAdminController {

    /** Shared with the router's SlaConfigSource. */
    static final String CONFIGS = "slaConfigs";

    private final MongoTemplate mongo;
    private final SlaTargets targets;
    private final StoreDurability durability;
    private final Clock clock;

    SlaAdminController(MongoTemplate mongo, SlaTargets targets, ObjectProvider<StoreDurability> durability,
                       ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.targets = targets;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @GetMapping
    Map<String, Object> get() {
        Document newest = newest();
        if (newest == null) {
            return builtIn();
        }
        Map<String, Object> config = parse(newest.getString("json"));
        config.put("version", ((Number) newest.get("_id")).longValue());
        return config;
    }

    @PutMapping
    Map<String, Object> put(@RequestBody Map<String, Object> body, Authentication user) {
        Map<String, Object> config = new LinkedHashMap<>(body == null ? Map.of() : body);
        config.remove("version");
        try {
            SlaConfigValidator.validate(config);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid SLA configuration: " + e.getMessage());
        }
        String json = ContractJson.toJson(config);
        for (int attempt = 0; attempt < 5; attempt++) {
            Document newest = newest();
            long version = newest == null ? 1 : ((Number) newest.get("_id")).longValue() + 1;
            try {
                mongo.insert(new Document("_id", version).append("json", json).append("savedAt", Date.from(clock.instant()))
                        .append("savedBy", user == null ? null : user.getName()), CONFIGS);
                durability.commit();
                config.put("version", version);
                io.switchboard.api.security.AuditLog.describe(Map.of("version", version,
                        "policies", names(config.get("policies")), "calendars", names(config.get("calendars"))));
                return config;
            } catch (DuplicateKeyException concurrent) {
                // another admin saved at the same moment: take the next version
            }
        }
        throw ApiException.badRequest("the SLA configuration is being changed concurrently; try again");
    }

    /** The names of a validated list of policies or calendars, for the audit. */
    private static List<String> names(Object list) {
        return list instanceof List<?> l ? l.stream().map(x -> x instanceof Map<?, ?> m ? String.valueOf(m.get("name")) : "?").toList()
                : List.of();
    }

    private Document newest() {
        return mongo.findOne(new Query().with(Sort.by(Sort.Direction.DESC, "_id")).limit(1), Document.class, CONFIGS);
    }

    /** Version 0: the router's built-in policy from SLA_FIRST_RESPONSE / SLA_NEXT_RESPONSE / SLA_RESOLUTION. */
    private Map<String, Object> builtIn() {
        Map<String, Object> normal = new LinkedHashMap<>();
        normal.put("firstResponse", targets.firstResponse().toString());
        normal.put("nextResponse", targets.nextResponse().toString());
        normal.put("resolution", targets.resolution().toString());
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("name", "default");
        policy.put("calendar", null);
        policy.put("targets", Map.of("normal", normal));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("calendars", List.of());
        config.put("policies", List.of(policy));
        config.put("version", 0L);
        return config;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String json) {
        return new LinkedHashMap<>(ContractJson.mapper().readValue(json, Map.class));
    }
}
