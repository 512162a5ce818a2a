package io.switchboard.api.sla;

import io.switchboard.api.ApiException;
import io.switchboard.store.Conversation;
import org.bson.Document;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.aggregation.Aggregation;
import org.springframework.data.mongodb.core.aggregation.ConditionalOperators;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * The operators' SLA figures: per metric over a time range (clocks stopped in it, from
 * {@code slaOutcomes}, written by the router's SLA tracker) with optional breakdown, and the live
 * state of the queue (from the clocks stored on conversations).
 *
 * <p>Percentiles are nearest-rank over whole seconds: p50 of [10, 20, 30, 40] is 20.
 */
@RestController
class SlaSummaryController {

    /** Shared with the router's SLA tracker: one document per stopped clock cycle. */
    static final String OUTCOMES = "slaOutcomes";
    static final List<String> METRICS = List.of("firstResponse", "nextResponse", "resolution");
    static final List<String> GROUPS = List.of("channel", "priority", "assignee", "policy", "account");
    /** Backlog age buckets: upper bounds (exclusive) and their labels. */
    static final List<Duration> AGE_BOUNDS = List.of(Duration.ofHours(1), Duration.ofHours(4), Duration.ofDays(1), Duration.ofDays(3));
    static final List<String> AGE_LABELS = List.of("<1h", "1h-4h", "4h-1d", "1d-3d", ">=3d");

    private final MongoTemplate mongo;
    private final Clock clock;

    SlaSummaryController(MongoTemplate mongo, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @GetMapping("/api/sla/summary")
    Map<String, Object> summary(@RequestParam(required = false) String from, @RequestParam(required = false) String to,
                                @RequestParam(required = false) String channel, @RequestParam(required = false) String groupBy,
                                @RequestParam(required = false) String interval,
                                @RequestParam(required = false) Integer atRiskMinutes) {
        Instant now = clock.instant();
        Instant end = to == null || to.isBlank() ? now : instant(to, "to");
        Instant start = from == null || from.isBlank() ? end.minus(Duration.ofDays(7)) : instant(from, "from");
        if (!start.isBefore(end)) {
            throw ApiException.badRequest("from must be before to");
        }
        if (groupBy != null && !groupBy.isBlank() && !GROUPS.contains(groupBy)) {
            throw ApiException.badRequest("groupBy must be one of " + GROUPS);
        }
        ChronoUnit unit = interval == null || interval.isBlank() || interval.equals("day") ? ChronoUnit.DAYS
                : interval.equals("hour") ? ChronoUnit.HOURS : null;
        if (unit == null) {
            throw ApiException.badRequest("interval must be hour or day");
        }
        int riskMinutes = atRiskMinutes == null ? 30 : atRiskMinutes;
        if (riskMinutes < 1 || riskMinutes > 7 * 24 * 60) {
            throw ApiException.badRequest("atRiskMinutes must be between 1 and 10080");
        }
        List<String> channels = channel == null || channel.isBlank() ? List.of() : List.of(channel.toLowerCase().split(","));

        Criteria range = where("stoppedAt").gte(Date.from(start)).lt(Date.from(end));
        if (!channels.isEmpty()) {
            range = range.and("channel").in(channels);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("from", start);
        out.put("to", end);
        out.put("channel", channel);
        Map<String, Map<String, Object>> totals = metrics(range, null);
        for (String m : METRICS) {
            out.put(m, totals.getOrDefault(m + "|", emptyFigures()));
        }
        if (groupBy != null && !groupBy.isBlank()) {
            Map<String, Map<String, Object>> grouped = metrics(range, groupBy);
            Map<String, Map<String, Object>> byKey = new TreeMap<>();
            grouped.forEach((k, figures) -> {
                String[] parts = k.split("\\|", 2);
                Map<String, Object> g = byKey.computeIfAbsent(parts[1], key -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("key", key.isEmpty() ? null : key);
                    for (String metric : METRICS) {
                        m.put(metric, emptyFigures());
                    }
                    return m;
                });
                g.put(parts[0], figures);
            });
            out.put("groupBy", groupBy);
            out.put("groups", new ArrayList<>(byKey.values()));
        }
        out.put("series", series(range, start, end, unit));
        liveAndBacklog(channels, now, riskMinutes, out);
        return out;
    }

    /** count/met/breached and wall and business durations per metric (and group), grouped in the store. */
    private Map<String, Map<String, Object>> metrics(Criteria range, String groupBy) {
        String[] keys = groupBy == null ? new String[]{"metric"} : new String[]{"metric", groupBy};
        Aggregation aggregation = Aggregation.newAggregation(
                Aggregation.match(range),
                Aggregation.group(keys).count().as("count")
                        .sum(ConditionalOperators.when(where("breached").is(true)).then(1).otherwise(0)).as("breached")
                        .push("wallSeconds").as("wall")
                        .push("businessSeconds").as("business"));
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Document d : mongo.aggregate(aggregation, OUTCOMES, Document.class).getMappedResults()) {
            Object id = d.get("_id");
            String metric;
            String group = "";
            if (id instanceof Document key) {
                metric = key.getString("metric");
                Object g = groupBy == null ? null : key.get(groupBy);
                group = g == null ? "" : String.valueOf(g);
            } else {
                metric = String.valueOf(id != null ? id : d.get("metric"));
                if (groupBy != null && d.get(groupBy) != null) {
                    group = String.valueOf(d.get(groupBy));
                }
            }
            out.put(metric + "|" + group, figures(((Number) d.get("count")).longValue(), ((Number) d.get("breached")).longValue(),
                    numbers(d.get("wall")), numbers(d.get("business"))));
        }
        return out;
    }

    static Map<String, Object> figures(long count, long breached, List<Long> wall, List<Long> business) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("count", count);
        f.put("met", count - breached);
        f.put("breached", breached);
        f.put("breachRate", count == 0 ? null : (double) breached / count);
        f.put("p50", percentile(wall, 50));
        f.put("p90", percentile(wall, 90));
        f.put("average", average(wall));
        f.put("businessP50", percentile(business, 50));
        f.put("businessP90", percentile(business, 90));
        f.put("businessAverage", average(business));
        return f;
    }

    static Map<String, Object> emptyFigures() {
        return figures(0, 0, List.of(), List.of());
    }

    /** Nearest-rank percentile; null for no values. */
    static Long percentile(List<Long> values, int p) {
        if (values.isEmpty()) {
            return null;
        }
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    static Double average(List<Long> values) {
        return values.isEmpty() ? null : values.stream().mapToLong(Long::longValue).average().orElse(0);
    }

    private static List<Long> numbers(Object raw) {
        List<Long> out = new ArrayList<>();
        if (raw instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Number n) {
                    out.add(n.longValue());
                }
            }
        }
        return out;
    }

    /** Stopped clocks and breaches per metric per hour or day (UTC), for charts. */
    private List<Map<String, Object>> series(Criteria range, Instant start, Instant end, ChronoUnit unit) {
        Query q = Query.query(range);
        q.fields().include("metric").include("stoppedAt").include("breached");
        TreeMap<Instant, Map<String, long[]>> buckets = new TreeMap<>();
        for (Instant b = start.atZone(ZoneOffset.UTC).truncatedTo(unit).toInstant(); b.isBefore(end); b = b.plus(1, unit)) {
            buckets.put(b, new LinkedHashMap<>());
        }
        for (Document d : mongo.find(q, Document.class, OUTCOMES)) {
            Instant at = SlaView.instant(d.get("stoppedAt"));
            if (at == null) {
                continue;
            }
            Instant bucket = at.atZone(ZoneOffset.UTC).truncatedTo(unit).toInstant();
            long[] counts = buckets.computeIfAbsent(bucket, k -> new LinkedHashMap<>())
                    .computeIfAbsent(d.getString("metric"), k -> new long[2]);
            counts[0]++;
            if (Boolean.TRUE.equals(d.get("breached"))) {
                counts[1]++;
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        buckets.forEach((bucket, perMetric) -> {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("start", bucket);
            for (String m : METRICS) {
                long[] c = perMetric.getOrDefault(m, new long[2]);
                row.put(m, Map.of("count", c[0], "breached", c[1]));
            }
            out.add(row);
        });
        return out;
    }

    private Criteria unresolved(List<String> channels) {
        Criteria c = where("status").ne(Conversation.RESOLVED).and("lastMessageAt").ne(null);
        return channels.isEmpty() ? c : c.and("channel").in(channels);
    }

    /**
     * Live figures and the backlog by age in one pass over the unresolved conversations: a single
     * {@code $group} whose sums are conditions, computed in the store.
     */
    private Map<String, Object> liveAndBacklog(List<String> channels, Instant now, int riskMinutes, Map<String, Object> out) {
        Document match = new Document("status", new Document("$ne", Conversation.RESOLVED))
                .append("lastMessageAt", new Document("$ne", null));
        if (!channels.isEmpty()) {
            match.append("channel", new Document("$in", channels));
        }
        Date nowDate = Date.from(now);
        Object dueAt = new Document("$ifNull", List.of("$sla.nextDueAt", new Date(Long.MAX_VALUE / 4)));
        Document group = new Document("_id", null)
                .append("open", sumIf(eq("$status", Conversation.OPEN)))
                .append("pending", sumIf(eq("$status", Conversation.PENDING)))
                .append("snoozed", sumIf(eq("$status", Conversation.SNOOZED)))
                .append("unassigned", sumIf(eq(new Document("$ifNull", List.of("$assignee", "")), "")))
                .append("waiting", sumIf(new Document("$ne", List.of(new Document("$ifNull", List.of("$awaitingSince", "")), ""))))
                .append("atRisk", sumIf(new Document("$and", List.of(new Document("$gt", List.of(dueAt, nowDate)),
                        new Document("$lte", List.of(dueAt, Date.from(now.plus(Duration.ofMinutes(riskMinutes)))))))))
                .append("breachedNow", sumIf(new Document("$lte", List.of(dueAt, nowDate))));
        // age buckets by the first customer message (or creation): bucket i holds ages in [bound(i-1), bound(i))
        Object since = new Document("$ifNull", List.of("$firstCustomerMessageAt", new Document("$ifNull", List.of("$createdAt", nowDate))));
        for (int i = 0; i < AGE_LABELS.size(); i++) {
            List<Object> conditions = new ArrayList<>();
            if (i > 0) {
                conditions.add(new Document("$lte", List.of(since, Date.from(now.minus(AGE_BOUNDS.get(i - 1))))));
            }
            if (i < AGE_BOUNDS.size()) {
                conditions.add(new Document("$gt", List.of(since, Date.from(now.minus(AGE_BOUNDS.get(i))))));
            }
            group.append("age" + i, sumIf(conditions.size() == 1 ? conditions.get(0) : new Document("$and", conditions)));
        }
        List<Document> pipeline = List.of(new Document("$match", match), new Document("$group", group));
        Document figures = mongo.getCollection(Conversation.COLLECTION).aggregate(pipeline).first();
        figures = figures == null ? new Document() : figures;

        Map<String, Object> live = new LinkedHashMap<>();
        for (String k : List.of("open", "pending", "snoozed", "unassigned", "waiting", "atRisk", "breachedNow")) {
            live.put(k, count(figures.get(k)));
            if (k.equals("waiting")) {
                live.put("atRiskMinutes", riskMinutes);
            }
        }
        Query waiting = Query.query(unresolved(channels).and("awaitingSince").ne(null))
                .with(Sort.by(Sort.Direction.ASC, "awaitingSince")).limit(10);
        waiting.fields().include("awaitingSince").include("channel").include("assignee");
        List<Map<String, Object>> oldest = new ArrayList<>();
        List<Document> found = new ArrayList<>(mongo.find(waiting, Document.class, Conversation.COLLECTION));
        // sorted again in memory: stores without the index may ignore the sort
        found.sort((a, b) -> SlaView.instant(a.get("awaitingSince")).compareTo(SlaView.instant(b.get("awaitingSince"))));
        for (Document d : found) {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("id", d.getString("_id"));
            w.put("channel", d.getString("channel"));
            w.put("assignee", d.getString("assignee"));
            w.put("awaitingSince", SlaView.instant(d.get("awaitingSince")));
            oldest.add(w);
        }
        live.put("waitingOldestFirst", oldest);
        out.put("live", live);
        List<Map<String, Object>> backlog = new ArrayList<>();
        for (int i = 0; i < AGE_LABELS.size(); i++) {
            backlog.add(Map.of("bucket", AGE_LABELS.get(i), "count", count(figures.get("age" + i))));
        }
        out.put("backlogByAge", backlog);
        return out;
    }

    private static Document sumIf(Object condition) {
        return new Document("$sum", new Document("$cond", List.of(condition, 1, 0)));
    }

    private static Document eq(Object a, Object b) {
        return new Document("$eq", List.of(a, b));
    }

    private static long count(Object v) {
        return v instanceof Number n ? n.longValue() : 0L;
    }

    private static Instant instant(String raw, String name) {
        try {
            return Instant.parse(raw);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(name + " must be an ISO-8601 instant such as 2025-03-12T15:46:45Z");
        }
    }
}
