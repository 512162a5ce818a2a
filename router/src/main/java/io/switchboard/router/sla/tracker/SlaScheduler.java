package io.switchboard.router.sla.tracker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.SlaEvent;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterProperties;
import io.switchboard.router.sla.SlaMetric;
import io.switchboard.router.sla.SlaState;
import io.switchboard.store.Conversation;
import io.switchboard.store.StoreDurability;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.FindAndModifyOptions;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Fires due SLA warnings and breaches on {@link Topics#SLA_EVENTS}, exactly once per conversation,
 * metric, cycle and kind, with any number of router instances (ADR 0130).
 *
 * <p>Every instance polls for due timers: the keys listed under the seconds that passed since its last
 * poll ({@code slaTimerSlots}, read by {@code _id}), backed by a scan of {@code slaTimers} by
 * {@code fireAt} at start, after a long pause and every few minutes. Before publishing, an instance claims
 * the timer's key by inserting it into {@code slaFirings} (unique {@code _id}): one insert wins.
 * After the broker acknowledged the event the claim becomes {@code published}. A claim left
 * unconfirmed (crash, broker down) is taken over by its owner at once (it restarted) or by any
 * instance after {@code claim-lease}, so nothing claimed is lost. Timers that came due while no
 * router ran fire at startup, flagged {@code late}.
 */
@Component
class SlaScheduler implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(SlaScheduler.class);

    static final String CLAIMED = "claimed";
    static final String PUBLISHED = "published";
    private static final Duration LATE_AFTER = Duration.ofSeconds(1);
    private static final int BATCH = 200;
    /** Published SLA events, tagged {@code type} (warning|breach), {@code metric} and {@code late}; Prometheus: switchboard_sla_events_total. */
    static final String EVENTS_METER = "switchboard.sla.events";

    private final MongoTemplate mongo;
    private final KafkaTemplate<String, byte[]> kafka;
    private final StoreDurability durability;
    private final Clock clock;
    private final SlaTrackerProperties props;
    private final String owner;
    private final MeterRegistry meters;
    /** Timers found not (yet) valid, e.g. the tracker has not seen the reply yet: looked at again after a pause. */
    private final Map<String, Instant> recheckAfter = new HashMap<>();
    private ScheduledExecutorService executor;

    SlaScheduler(MongoTemplate mongo, KafkaTemplate<String, byte[]> kafka, SlaTrackerProperties props, RouterProperties router,
                 MeterRegistry meters, ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.meters = meters;
        this.kafka = kafka;
        this.props = props;
        this.owner = router.instanceId();
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Override
    public synchronized void start() {
        try {
            mongo.indexOps(SlaDocuments.TIMERS).createIndex(new Index().on("fireAt", Sort.Direction.ASC));
            mongo.indexOps(SlaDocuments.TIMERS).createIndex(new Index().on("conversationId", Sort.Direction.ASC));
        } catch (RuntimeException e) {
            log.warn("could not create SLA timer indexes: {}", e.toString());
        }
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sla-scheduler");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(10, props.pollInterval().toMillis());
        executor.scheduleWithFixedDelay(this::pollSafely, 0, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            executor = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return executor != null;
    }

    /** After the listeners (default phase) so events of the startup backlog can be published. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }

    private void pollSafely() {
        try {
            poll();
        } catch (RuntimeException e) {
            log.warn("SLA scheduler poll failed, will retry: {}", e.toString());
        }
    }

    /** The first second whose slot has not been read to its end; null until the first full scan. */
    private Long nextSlot;
    /** A full scan returned a full batch: more due timers wait behind it. */
    private boolean scanAgain;
    private long polls;
    /** Slots further behind than this (a restart, a jump of the clock) are caught up by one scan instead. */
    private static final long MAX_SLOT_SPAN = 120;
    /**
     * Every this many polls (about five minutes at the default interval) a full scan by {@code fireAt} backs up the slots: timers of
     * a firing another instance claimed and then lost, or written by a version without slots.
     */
    private static final long FULL_SCAN_EVERY = 1500;

    /** Fires every timer due now. */
    void poll() {
        Instant now = clock.instant();
        long second = now.getEpochSecond();
        List<String> recheck = new java.util.ArrayList<>();
        recheckAfter.entrySet().removeIf(e -> {
            if (e.getValue().isAfter(now)) {
                return false;
            }
            recheck.add(e.getKey());
            return true;
        });
        if (nextSlot == null || scanAgain || second - nextSlot > MAX_SLOT_SPAN || ++polls % FULL_SCAN_EVERY == 0) {
            List<Document> due = mongo.find(Query.query(where("fireAt").lte(Date.from(now)))
                    .with(Sort.by(Sort.Direction.ASC, "fireAt")).limit(BATCH), Document.class, SlaDocuments.TIMERS);
            scanAgain = due.size() == BATCH;
            if (!scanAgain) {
                // everything due up to now is in hand: slots older than this second are done with
                mongo.remove(Query.query(where("_id").lt(second)), SlaDocuments.SLOTS);
                nextSlot = second;
            }
            for (Document timer : due) {
                if (!recheckAfter.containsKey(timer.getString("_id"))) {
                    fire(timer);
                }
            }
            return;
        }
        // the seconds since the last poll, by _id; the last few are read again (a tracker whose clock is a
        // little behind, or a timer written just now into the current second), skipping keys handled already
        List<Long> seconds = new java.util.ArrayList<>();
        for (long s = nextSlot; s <= second; s++) {
            seconds.add(s);
        }
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(recheck);
        for (Document slot : mongo.find(Query.query(where("_id").in(seconds)), Document.class, SlaDocuments.SLOTS)) {
            Object listed = slot.get("keys");
            if (listed instanceof List<?> list) {
                list.forEach(k -> keys.add(String.valueOf(k)));
            }
        }
        for (String key : keys) {
            // a key put aside for a recheck is looked at again even if its second was handled already
            if (recheckAfter.containsKey(key) || (handled.containsKey(key) && !recheck.contains(key))) {
                continue;
            }
            Document timer = mongo.findById(key, Document.class, SlaDocuments.TIMERS);
            Instant fireAt = timer == null ? null : SlaDocuments.instant(timer, "fireAt");
            if (fireAt != null && fireAt.isAfter(now)) {
                continue; // not yet, or moved later (then listed in its new slot too)
            }
            handled.put(key, second);
            if (timer != null) {
                fire(timer); // a timer gone (fired, stopped) is skipped
            }
        }
        long keepFrom = second - REREAD_SECONDS;
        if (keepFrom > nextSlot) {
            List<Long> passed = new java.util.ArrayList<>();
            for (long s = nextSlot; s < keepFrom; s++) {
                passed.add(s);
            }
            mongo.remove(Query.query(where("_id").in(passed)), SlaDocuments.SLOTS); // by _id: no scan
            nextSlot = keepFrom;
            handled.values().removeIf(s -> s < keepFrom - REREAD_SECONDS);
        }
    }

    /** Seconds read again by every poll after they passed. */
    private static final long REREAD_SECONDS = 2;
    /** Keys of the re-read seconds dealt with already (fired, found gone, or put aside), with the second they were. */
    private final Map<String, Long> handled = new HashMap<>();

    private void fire(Document timer) {
        String key = timer.getString("_id");
        Instant now = clock.instant();
        if (!claim(key, now)) {
            // another instance has it: look again when its lease would have run out, in case it never publishes
            recheckAfter.put(key, now.plus(props.claimLease()));
            return;
        }
        durability.commit(); // the claim must survive a crash before the event can be out
        String conversationId = timer.getString("conversationId");
        SlaMetric metric = SlaMetric.fromWire(timer.getString("metric"));
        String cycle = timer.getString("cycle");
        boolean breach = SlaState.Timer.Kind.BREACH.wire().equals(timer.getString("kind"));
        Instant scheduledFor = SlaDocuments.instant(timer, "fireAt");
        Document c = mongo.findById(conversationId, Document.class, Conversation.COLLECTION);
        if (c == null || !stillDue(c, metric, cycle, breach, scheduledFor, now)) {
            // The clock stopped or moved (maybe the tracker is about to reschedule it): give the claim back.
            mongo.remove(Query.query(where("_id").is(key).and("state").is(CLAIMED).and("owner").is(owner)), SlaDocuments.FIRINGS);
            recheckAfter.put(key, now.plusMillis(500));
            return;
        }
        Instant firedAt = clock.instant();
        SlaEvent event = new SlaEvent(SlaEvent.SCHEMA_VERSION, key, breach ? SlaEvent.BREACHED : SlaEvent.WARNING,
                conversationId, metric.wire(), cycle, timer.getString("policy"), channel(c.getString("channel")),
                c.getString("account"), c.getString("priority"), c.getString("assignee"), SlaDocuments.instant(timer, "dueAt"),
                scheduledFor, firedAt, Duration.between(scheduledFor, firedAt).compareTo(LATE_AFTER) > 0);
        try {
            kafka.send(Topics.SLA_EVENTS, conversationId, ContractJson.toBytes(event)).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // The claim stays ours: a later poll takes it over and tries again.
            log.warn("SLA event {} not published yet: {}", key, e.toString());
            recheckAfter.put(key, now.plusSeconds(1));
            return;
        }
        // counted once the broker has the event, so the figure is what consumers can see (a takeover after a crash
        // between this and the claim's confirmation publishes, and counts, again: see ADR 0130)
        Counter.builder(EVENTS_METER).description("SLA warnings and breaches published on " + Topics.SLA_EVENTS)
                .tag("type", breach ? "breach" : "warning").tag("metric", metric.wire()).tag("late", Boolean.toString(event.late()))
                .register(meters).increment();
        mongo.updateFirst(Query.query(where("_id").is(key)), new Update().set("state", PUBLISHED)
                .set("publishedAt", Date.from(firedAt)).set("late", event.late()), SlaDocuments.FIRINGS);
        mongo.remove(Query.query(where("_id").is(key)), SlaDocuments.TIMERS);
        if (breach) {
            mongo.updateFirst(Query.query(where("_id").is(conversationId).and("sla." + metric.wire() + ".cycle").is(cycle)),
                    new Update().set("sla." + metric.wire() + ".breached", true), Conversation.COLLECTION);
        }
        durability.commit();
        log.info("SLA {} {} of conversation {} (cycle {}){}", metric.wire(), breach ? "breached" : "warning", conversationId,
                cycle, event.late() ? " late" : "");
    }

    /** Claims a key for publishing; false when another instance has (or had) it. */
    private boolean claim(String key, Instant now) {
        try {
            mongo.insert(new Document("_id", key).append("state", CLAIMED).append("owner", owner)
                    .append("claimedAt", Date.from(now)), SlaDocuments.FIRINGS);
            return true;
        } catch (DuplicateKeyException taken) {
            Document existing = mongo.findById(key, Document.class, SlaDocuments.FIRINGS);
            if (existing == null) {
                return false; // released meanwhile: the next poll tries again
            }
            if (PUBLISHED.equals(existing.getString("state"))) {
                mongo.remove(Query.query(where("_id").is(key)), SlaDocuments.TIMERS);
                return false;
            }
            Instant claimedAt = SlaDocuments.instant(existing, "claimedAt");
            boolean mine = owner.equals(existing.getString("owner"));
            boolean expired = claimedAt == null || claimedAt.plus(props.claimLease()).isBefore(now);
            if (!mine && !expired) {
                return false;
            }
            // Take over an unconfirmed claim: compare-and-set on the claim time, so one taker wins.
            Document won = mongo.findAndModify(Query.query(where("_id").is(key).and("state").is(CLAIMED)
                            .and("claimedAt").is(existing.get("claimedAt"))),
                    new Update().set("owner", owner).set("claimedAt", Date.from(now)),
                    FindAndModifyOptions.options().returnNew(true), Document.class, SlaDocuments.FIRINGS);
            return won != null;
        }
    }

    /**
     * Whether the stored clock still runs in this cycle and is due, checked against the conversation's
     * own timestamps too, so a reply the tracker has not processed yet prevents a false breach.
     */
    private boolean stillDue(Document c, SlaMetric metric, String cycle, boolean breach, Instant scheduledFor, Instant now) {
        SlaState state = SlaDocuments.state(c);
        SlaState.Clock clock = state == null ? null : state.clock(metric);
        if (clock == null || !clock.cycle().equals(cycle) || !clock.running()) {
            return false;
        }
        Instant stored = breach ? clock.dueAt() : clock.warnAt();
        if (stored == null || stored.isAfter(now)) {
            return false; // moved later (e.g. resumed after a pause): the tracker rescheduled it
        }
        String status = c.getString("status");
        Instant resolvedAt = SlaDocuments.instant(c, "resolvedAt");
        if (Conversation.RESOLVED.equals(status) && (resolvedAt == null || !resolvedAt.isAfter(scheduledFor))) {
            return false;
        }
        switch (metric) {
            case FIRST_RESPONSE: {
                Instant answered = SlaDocuments.instant(c, "firstResponseAt");
                return answered == null || answered.isAfter(scheduledFor);
            }
            case NEXT_RESPONSE: {
                Instant waiting = SlaDocuments.instant(c, "awaitingSince");
                return waiting != null && Long.toString(waiting.toEpochMilli()).equals(cycle);
            }
            default:
                return !Conversation.PENDING.equals(status);
        }
    }

    private static Channel channel(String wire) {
        try {
            return wire == null ? null : Channel.fromWire(wire);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
