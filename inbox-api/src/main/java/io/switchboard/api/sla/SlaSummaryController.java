package io.switchboard.api.sla;

import io.switchboard.api.ApiException;
import io.switchboard.api.security.Visibility;
import io.switchboard.store.Conversation;
import io.switchboard.store.SlaRollups;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The operators' SLA figures: per metric over a time range (clocks stopped in it) with optional
 * breakdown, and the live state of the queue. Both come from the rollups the router's SLA tracker
 * keeps ({@link SlaRollups}, ADR 0132): hour documents and live shards read by {@code _id}.
 *
 * <p>Percentiles are nearest-rank over whole seconds: p50 of [10, 20, 30, 40] is 20; exact up to
 * {@value SlaRollups#DEFAULT_EXACT_LIMIT} clocks in the range, from log-scaled histograms (within 4.4%) above.
 */
@RestController
class SlaSummaryController {

    /** Shared with the router's SLA tracker: one document per stopped clock cycle. */
    static final String OUTCOMES = "slaOutcomes";
    static final List<String> METRICS = List.of("firstResponse", "nextResponse", "resolution");
    static final List<String> GROUPS = List.of("channel", "priority", "assignee", "team", "policy", "account");
    /** Backlog age buckets: upper bounds (exclusive) and their labels. */
    static final List<Duration> AGE_BOUNDS = List.of(Duration.ofHours(1), Duration.ofHours(4), Duration.ofDays(1), Duration.ofDays(3));
    static final List<String> AGE_LABELS = List.of("<1h", "1h-4h", "4h-1d", "1d-3d", ">=3d");

    private final SlaRollups rollups;
    private final Clock clock;
    private final Visibility visibility;

    SlaSummaryController(MongoTemplate mongo, ObjectProvider<Clock> clock, Visibility visibility) {
        this.rollups = new SlaRollups(mongo);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.visibility = visibility;
    }

    /**
     * A conversation's team is the team whose scope (channels and accounts of the assignment settings) serves its
     * channel account, as for the queue's {@code team=} filter and agents' visibility (ADR 0142); a clock served by
     * several teams counts for each, one served by none under the {@code null} key.
     */
    private SlaRollups.TeamsOf teams() {
        Map<String, Visibility.Team> teams = visibility.teams();
        return (channel, account) -> teams.values().stream()
                .filter(t -> (t.channels().isEmpty() || t.channels().contains(channel))
                        && (t.accounts().isEmpty() || t.accounts().contains(account)))
                .map(Visibility.Team::name).toList();
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

        String grouping = groupBy == null || groupBy.isBlank() ? null : groupBy;
        SlaRollups.Report report = rollups.report(start, end, channels, grouping, SlaRollups.TEAM.equals(grouping) ? teams() : null);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("from", start);
        out.put("to", end);
        out.put("channel", channel);
        for (String m : METRICS) {
            SlaRollups.Figures f = report.totals().get(m);
            out.put(m, f == null ? emptyFigures() : figures(f));
        }
        if (groupBy != null && !groupBy.isBlank()) {
            Map<String, Map<String, Object>> byKey = new TreeMap<>();
            report.groups().forEach((metric, groups) -> groups.forEach((key, f) -> {
                Map<String, Object> g = byKey.computeIfAbsent(key, k -> {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("key", k.isEmpty() ? null : k);
                    for (String each : METRICS) {
                        row.put(each, emptyFigures());
                    }
                    return row;
                });
                g.put(metric, figures(f));
            }));
            out.put("groupBy", groupBy);
            out.put("groups", new ArrayList<>(byKey.values()));
        }
        out.put("series", series(report, start, end, unit));
        liveAndBacklog(channels, now, riskMinutes, out);
        return out;
    }

    static Map<String, Object> figures(SlaRollups.Figures s) {
        Map<String, Object> f = new LinkedHashMap<>();
        long count = s.count();
        f.put("count", count);
        f.put("met", count - s.breached());
        f.put("breached", s.breached());
        f.put("breachRate", count == 0 ? null : (double) s.breached() / count);
        f.put("p50", s.percentile(50, false));
        f.put("p90", s.percentile(90, false));
        f.put("average", s.average(false));
        f.put("businessP50", s.percentile(50, true));
        f.put("businessP90", s.percentile(90, true));
        f.put("businessAverage", s.average(true));
        return f;
    }

    static Map<String, Object> emptyFigures() {
        return figures(new SlaRollups.Figures());
    }

    /** Stopped clocks and breaches per metric per hour or day (UTC), for charts. */
    private List<Map<String, Object>> series(SlaRollups.Report report, Instant start, Instant end, ChronoUnit unit) {
        TreeMap<Instant, Map<String, long[]>> buckets = new TreeMap<>();
        for (Instant b = start.atZone(ZoneOffset.UTC).truncatedTo(unit).toInstant(); b.isBefore(end); b = b.plus(1, unit)) {
            buckets.put(b, new LinkedHashMap<>());
        }
        report.hourly().forEach((hour, perMetric) -> {
            Map<String, long[]> bucket = buckets.computeIfAbsent(hour.atZone(ZoneOffset.UTC).truncatedTo(unit).toInstant(),
                    k -> new LinkedHashMap<>());
            perMetric.forEach((metric, c) -> {
                long[] counts = bucket.computeIfAbsent(metric, k -> new long[2]);
                counts[0] += c[0];
                counts[1] += c[1];
            });
        });
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

    /**
     * Live figures and the backlog by age from the live shards (one compact entry per unresolved
     * conversation, kept by the router's SLA tracker): one read of {@value SlaRollups#LIVE_SHARDS}
     * documents by {@code _id}, counted here.
     */
    private Map<String, Object> liveAndBacklog(List<String> channels, Instant now, int riskMinutes, Map<String, Object> out) {
        long open = 0, pending = 0, snoozed = 0, unassigned = 0, waiting = 0, atRisk = 0, breachedNow = 0;
        long[] ages = new long[AGE_LABELS.size()];
        Instant riskEnd = now.plus(Duration.ofMinutes(riskMinutes));
        List<SlaRollups.LiveEntry> waitingList = new ArrayList<>();
        for (SlaRollups.LiveEntry e : rollups.live()) {
            if (!channels.isEmpty() && !channels.contains(e.channel())) {
                continue;
            }
            open += Conversation.OPEN.equals(e.status()) ? 1 : 0;
            pending += Conversation.PENDING.equals(e.status()) ? 1 : 0;
            snoozed += Conversation.SNOOZED.equals(e.status()) ? 1 : 0;
            unassigned += e.assignee() == null ? 1 : 0;
            if (e.awaitingSince() != null) {
                waiting++;
                waitingList.add(e);
            }
            if (e.nextDueAt() != null) {
                if (!e.nextDueAt().isAfter(now)) {
                    breachedNow++;
                } else if (!e.nextDueAt().isAfter(riskEnd)) {
                    atRisk++;
                }
            }
            // age buckets by the first customer message (or creation): bucket i holds ages in [bound(i-1), bound(i))
            Duration age = Duration.between(e.since() == null ? now : e.since(), now);
            int i = 0;
            while (i < AGE_BOUNDS.size() && age.compareTo(AGE_BOUNDS.get(i)) >= 0) {
                i++;
            }
            ages[i]++;
        }
        Map<String, Object> live = new LinkedHashMap<>();
        live.put("open", open);
        live.put("pending", pending);
        live.put("snoozed", snoozed);
        live.put("unassigned", unassigned);
        live.put("waiting", waiting);
        live.put("atRiskMinutes", riskMinutes);
        live.put("atRisk", atRisk);
        live.put("breachedNow", breachedNow);
        waitingList.sort(java.util.Comparator.comparing(SlaRollups.LiveEntry::awaitingSince).thenComparing(SlaRollups.LiveEntry::id));
        List<Map<String, Object>> oldest = new ArrayList<>();
        for (SlaRollups.LiveEntry e : waitingList.subList(0, Math.min(10, waitingList.size()))) {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("id", e.id());
            w.put("channel", e.channel());
            w.put("assignee", e.assignee());
            w.put("awaitingSince", e.awaitingSince());
            oldest.add(w);
        }
        live.put("waitingOldestFirst", oldest);
        out.put("live", live);
        List<Map<String, Object>> backlog = new ArrayList<>();
        for (int i = 0; i < AGE_LABELS.size(); i++) {
            backlog.add(Map.of("bucket", AGE_LABELS.get(i), "count", ages[i]));
        }
        out.put("backlogByAge", backlog);
        return out;
    }

    private static Instant instant(String raw, String name) {
        try {
            return Instant.parse(raw);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(name + " must be an ISO-8601 instant such as 2025-03-12T15:46:45Z");
        }
    }
}
