package io.switchboard.router.sla.tracker;

import io.switchboard.router.sla.SlaMetric;
import io.switchboard.router.sla.SlaState;
import io.switchboard.router.sla.SlaSubject;
import org.bson.Document;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The stored forms: the {@code sla} subdocument of a conversation (read by inbox-api and sorted on
 * by the queue), and the conversation fields the engine reads. Durations are stored as
 * milliseconds ({@code ...Ms}) plus whole seconds for reporting ({@code businessSeconds}, {@code wallSeconds}).
 */
final class SlaDocuments {

    /** Collection of stored configurations, {@code _id} = version (long), {@code json} = the admin's JSON. */
    static final String CONFIGS = "slaConfigs";
    /** Scheduled warnings and breaches, {@code _id} = {@link SlaState.Timer#key()}. */
    static final String TIMERS = "slaTimers";
    /** The exactly-once claims, {@code _id} = {@link SlaState.Timer#key()}, {@code state} claimed|published. */
    static final String FIRINGS = "slaFirings";
    /**
     * Timer keys by the second they fire in ({@code _id} = epoch second): the scheduler reads the
     * seconds that passed by {@code _id} instead of scanning every timer by {@code fireAt} (the
     * embedded store has no range index), several times a second.
     */
    static final String SLOTS = "slaTimerSlots";
    /** One document per stopped metric cycle, {@code _id} = conversation:metric:cycle, for reports. */
    static final String OUTCOMES = "slaOutcomes";

    /**
     * @param c       the conversation as stored
     * @param contact its contact as stored ({@code tags} only is read), or null
     */
    static SlaSubject subject(Document c, Document contact) {
        return new SlaSubject(c.getString("_id"), c.getString("channel"), c.getString("account"),
                c.getString("priority") == null ? "normal" : c.getString("priority"), tags(c), c.getString("topic"),
                c.getString("status"), instant(c, "firstCustomerMessageAt"), instant(c, "awaitingSince"),
                instant(c, "firstResponseAt"), instant(c, "lastAgentMessageAt"), instant(c, "resolvedAt"),
                contact == null ? Set.of() : tags(contact));
    }

    private static Set<String> tags(Document d) {
        Set<String> tags = new HashSet<>();
        if (d.get("tags") instanceof List<?> list) {
            list.forEach(t -> tags.add(String.valueOf(t)));
        }
        return tags;
    }

    static SlaState state(Document conversation) {
        Object raw = conversation.get("sla");
        if (!(raw instanceof Document sla)) {
            return null;
        }
        return new SlaState(sla.getString("policy"), clock(sla, SlaMetric.FIRST_RESPONSE), clock(sla, SlaMetric.NEXT_RESPONSE),
                clock(sla, SlaMetric.RESOLUTION));
    }

    private static SlaState.Clock clock(Document sla, SlaMetric metric) {
        Object raw = sla.get(metric.wire());
        if (!(raw instanceof Document d) || d.getString("cycle") == null) {
            return null;
        }
        return new SlaState.Clock(metric, d.getString("cycle"), number(d, "configVersion"), d.getString("policy"),
                duration(d, "targetMs"), instant(d, "startedAt"), duration(d, "elapsedMs"), instant(d, "runningSince"),
                instant(d, "dueAt"), instant(d, "warnAt"), instant(d, "stoppedAt"), Boolean.TRUE.equals(d.getBoolean("breached")),
                duration(d, "businessMs"), duration(d, "wallMs"));
    }

    static Document document(SlaState state, Instant updatedAt) {
        Document d = new Document("policy", state.policy()).append("nextDueAt", date(state.nextDueAt()))
                .append("updatedAt", date(updatedAt));
        for (SlaMetric m : SlaMetric.values()) {
            SlaState.Clock c = state.clock(m);
            d.append(m.wire(), c == null ? null : document(c));
        }
        return d;
    }

    static Document document(SlaState.Clock c) {
        return new Document("cycle", c.cycle()).append("configVersion", c.configVersion()).append("policy", c.policy())
                .append("targetMs", ms(c.target())).append("startedAt", date(c.startedAt())).append("elapsedMs", ms(c.elapsed()))
                .append("runningSince", date(c.runningSince())).append("dueAt", date(c.dueAt())).append("warnAt", date(c.warnAt()))
                .append("stoppedAt", date(c.stoppedAt())).append("breached", c.breached())
                .append("businessMs", ms(c.businessTime())).append("wallMs", ms(c.wallTime()))
                .append("businessSeconds", c.businessTime() == null ? null : c.businessTime().toSeconds())
                .append("wallSeconds", c.wallTime() == null ? null : c.wallTime().toSeconds());
    }

    static Instant instant(Document d, String field) {
        Object v = d.get(field);
        if (v instanceof Date date) {
            return date.toInstant();
        }
        if (v instanceof Instant i) {
            return i;
        }
        return null;
    }

    private static long number(Document d, String field) {
        Object v = d.get(field);
        return v instanceof Number n ? n.longValue() : 0L;
    }

    private static Duration duration(Document d, String field) {
        Object v = d.get(field);
        return v instanceof Number n ? Duration.ofMillis(n.longValue()) : null;
    }

    private static Long ms(Duration d) {
        return d == null ? null : d.toMillis();
    }

    static Date date(Instant i) {
        return i == null ? null : Date.from(i);
    }

    private SlaDocuments() {
    }
}
