package io.switchboard.api.security;

import io.switchboard.store.StoreDurability;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.bson.Document;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.HandlerInterceptor;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Every successful change made through an admin endpoint (any non-GET under /api/admin/, whoever
 * wrote the controller) is recorded in the {@code audit} collection: who, what (method and path,
 * never the body: it may hold a password), when and with what outcome. Admins read it at
 * GET /api/admin/audit.
 */
@RestController
public class AuditLog implements HandlerInterceptor {

    public static final String COLLECTION = "audit";

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;

    public AuditLog(MongoTemplate mongo, ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /** Records one administrative change. */
    public void record(String who, String action, String target, int status) {
        Instant now = clock.instant();
        mongo.insert(new Document("_id", UUID.randomUUID().toString()).append("at", now).append("user", who)
                .append("action", action).append("target", target).append("status", status), COLLECTION);
        durability.commit();
    }

    @Override
    public void afterCompletion(HttpServletRequest request, HttpServletResponse response, Object handler, Exception ex) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (!path.startsWith("/api/admin/") || "GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod())
                || "OPTIONS".equals(request.getMethod()) || ex != null || response.getStatus() >= 400) {
            return;
        }
        Authentication user = SecurityContextHolder.getContext().getAuthentication();
        record(user == null ? "unknown" : user.getName(), request.getMethod(), path, response.getStatus());
    }

    @GetMapping("/api/admin/audit")
    List<Map<String, Object>> list(@RequestParam(required = false) Integer limit) {
        int size = limit == null ? 100 : Math.max(1, Math.min(limit, 1000));
        Query query = new Query().with(Sort.by(Sort.Order.desc("at"))).limit(size);
        return mongo.find(query, Document.class, COLLECTION).stream()
                .sorted((a, b) -> b.getDate("at").compareTo(a.getDate("at")))
                .map(d -> Map.<String, Object>of("at", d.getDate("at").toInstant(), "user", d.getString("user"),
                        "action", d.getString("action"), "target", d.getString("target"), "status", d.getInteger("status")))
                .toList();
    }
}
