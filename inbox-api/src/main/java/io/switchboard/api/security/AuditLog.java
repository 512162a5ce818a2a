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
 * wrote the controller) is recorded in the {@code audit} collection: who, what (method and path),
 * when and with what outcome, and what changed: the field names and new values the controller
 * hands over with {@link #describe} (never the request body as such: it may hold a password; a
 * secret is recorded as {@link #SECRET_SET}). Admins read it at GET /api/admin/audit.
 */
@RestController
public class AuditLog implements HandlerInterceptor {

    public static final String COLLECTION = "audit";
    /** Stands for a password or secret that was set: the audit says that it changed, never to what. */
    public static final String SECRET_SET = "(set)";
    private static final String CHANGES = AuditLog.class.getName() + ".changes";

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;

    public AuditLog(MongoTemplate mongo, ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /**
     * What this admin request changed: field names with their new, non-secret values (secrets as
     * {@link #SECRET_SET}), written with the request's audit entry if it succeeds.
     */
    public static void describe(HttpServletRequest request, Map<String, ?> changes) {
        if (request != null && changes != null && !changes.isEmpty()) {
            request.setAttribute(CHANGES, new java.util.LinkedHashMap<>(changes));
        }
    }

    /** {@link #describe(HttpServletRequest, Map)} for the request this thread is serving. */
    public static void describe(Map<String, ?> changes) {
        if (org.springframework.web.context.request.RequestContextHolder.getRequestAttributes()
                instanceof org.springframework.web.context.request.ServletRequestAttributes attrs) {
            describe(attrs.getRequest(), changes);
        }
    }

    /** Records one administrative change. */
    public void record(String who, String action, String target, int status) {
        record(who, action, target, status, null);
    }

    void record(String who, String action, String target, int status, Map<String, ?> changes) {
        Instant now = clock.instant();
        Document entry = new Document("_id", UUID.randomUUID().toString()).append("at", now).append("user", who)
                .append("action", action).append("target", target).append("status", status);
        if (changes != null) {
            entry.append("changes", new Document(changes));
        }
        mongo.insert(entry, COLLECTION);
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
        @SuppressWarnings("unchecked")
        Map<String, ?> changes = (Map<String, ?>) request.getAttribute(CHANGES);
        record(user == null ? "unknown" : user.getName(), request.getMethod(), path, response.getStatus(), changes);
    }

    @GetMapping("/api/admin/audit")
    List<Map<String, Object>> list(@RequestParam(required = false) Integer limit) {
        int size = limit == null ? 100 : Math.max(1, Math.min(limit, 1000));
        Query query = new Query().with(Sort.by(Sort.Order.desc("at"))).limit(size);
        return mongo.find(query, Document.class, COLLECTION).stream()
                .sorted((a, b) -> b.getDate("at").compareTo(a.getDate("at")))
                .map(d -> {
                    Map<String, Object> out = new java.util.LinkedHashMap<>();
                    out.put("at", d.getDate("at").toInstant());
                    out.put("user", d.getString("user"));
                    out.put("action", d.getString("action"));
                    out.put("target", d.getString("target"));
                    out.put("status", d.getInteger("status"));
                    out.put("changes", d.get("changes") instanceof Document c ? c : Map.of());
                    return out;
                })
                .toList();
    }
}
