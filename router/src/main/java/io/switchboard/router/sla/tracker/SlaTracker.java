package io.switchboard.router.sla.tracker;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.router.sla.SlaEngine;
import io.switchboard.router.sla.SlaMetric;
import io.switchboard.router.sla.SlaState;
import io.switchboard.store.Contact;
import io.switchboard.store.Conversation;
import io.switchboard.store.SlaRollups;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Keeps every conversation's SLA clocks current: on each conversation event it recomputes the clocks
 * from the conversation as stored, writes them on the conversation ({@code sla}), schedules the
 * warnings and breaches of running clocks ({@code slaTimers}, fired by {@link SlaScheduler}) and
 * records each stopped clock's outcome ({@code slaOutcomes}). Every write is an idempotent
 * replacement, so redelivered events change nothing.
 */
@Component
class SlaTracker {

    private static final Logger log = LoggerFactory.getLogger(SlaTracker.class);

    private final MongoTemplate mongo;
    private final SlaEngine engine;
    private final StoreDurability durability;
    private final Clock clock;
    private final SlaRollups rollups;

    SlaTracker(MongoTemplate mongo, SlaConfigSource configs, SlaTrackerProperties props,
               ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.engine = new SlaEngine(configs::config, props.warnRatio());
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.rollups = new SlaRollups(mongo);
    }

    /** Counts data stored before the rollups existed, once (ADR 0132). */
    @org.springframework.context.event.EventListener(org.springframework.boot.context.event.ApplicationReadyEvent.class)
    void buildRollupsOnce() {
        try {
            if (!rollups.built()) {
                long[] counted = rollups.rebuild(clock.instant());
                durability.commit();
                log.info("SLA rollups built from the stored data: {} stopped clocks, {} unresolved conversations", counted[0], counted[1]);
            }
        } catch (RuntimeException e) {
            // never keeps the router from starting: the next start tries again, admins can POST /api/admin/sla/rebuild
            log.warn("SLA rollups not built from the stored data yet: {}", e.toString());
        }
    }

    @KafkaListener(id = "router-sla", containerFactory = "routerListenerFactory",
            topics = Topics.CONVERSATION_EVENTS,
            groupId = "${switchboard.router.group-id}-sla",
            properties = "group.instance.id=${switchboard.router.instance-id}-sla")
    public void onBatch(List<ConsumerRecord<String, byte[]>> records) {
        // One recompute per conversation per batch, as of its latest change: a new message alone brings
        // several events (opened, message added), and the clocks depend only on the stored conversation.
        java.util.Map<String, Instant> latest = new java.util.LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            ConversationEvent event;
            try {
                event = ContractJson.fromBytes(record.value(), ConversationEvent.class);
            } catch (ContractJson.UndecodableRecordException e) {
                log.warn("skipping undecodable conversation event at {}-{}@{}: {}", record.topic(), record.partition(),
                        record.offset(), e.getMessage());
                continue;
            }
            latest.merge(event.conversationId(), event.at(), (a, b) -> a.isAfter(b) ? a : b);
        }
        // the batch's conversations in one query rather than one read each
        java.util.Map<String, Document> stored = new java.util.HashMap<>();
        List<String> ids = new ArrayList<>(latest.keySet());
        for (int from = 0; from < ids.size(); from += 500) {
            for (Document d : mongo.find(Query.query(where("_id").in(ids.subList(from, Math.min(ids.size(), from + 500)))),
                    Document.class, Conversation.COLLECTION)) {
                stored.put(d.getString("_id"), d);
            }
        }
        // and their contacts' tags (policies may match them: contactTags), one query as well
        java.util.Map<String, Document> contacts = contactsOf(stored.values());
        Writes writes = new Writes();
        latest.forEach((conversationId, at) -> {
            try {
                Document c = stored.get(conversationId);
                track(conversationId, c, c == null ? null : contacts.get(c.getString("contactId")), at, writes);
            } catch (IllegalArgumentException | IllegalStateException e) {
                // deterministic (a configuration this router cannot apply): retrying would block every later event
                log.warn("SLA clocks of conversation {} not updated: {}", conversationId, e.getMessage());
            }
        });
        writes.flush();
        durability.commit();
    }

    /** Recomputes one conversation's clocks as of a change at {@code at}. */
    void track(String conversationId, Instant at) {
        Document c = mongo.findById(conversationId, Document.class, Conversation.COLLECTION);
        Writes writes = new Writes();
        track(conversationId, c, c == null ? null : contactsOf(List.of(c)).get(c.getString("contactId")), at, writes);
        writes.flush();
    }

    /**
     * A batch's SLA writes, issued together: one bulk of timers, one upsert per timer slot and per
     * live shard, one bulk of states. Why: the embedded store re-encodes a whole document on every
     * update, and a slot (the timers due in one second) or a live shard grows with the load, so one
     * write per conversation cost their size per message (ADR 0010). The order keeps the crash
     * safety of the single writes: timers (and outcomes, written as they are computed) before any
     * state, since the stored state is what the next recompute compares with to skip unchanged
     * timers; a crash in between redelivers the batch, and the recompute writes them again.
     */
    private final class Writes {
        /** Timer key to its fields, upserted. */
        private final java.util.Map<String, Update> timerUpserts = new java.util.LinkedHashMap<>();
        private final List<String> timerRemovals = new ArrayList<>();
        /** Timer key to its fire time; the slot (second) is chosen at the flush, see there. */
        private final java.util.Map<String, Instant> slotted = new java.util.LinkedHashMap<>();
        private final java.util.Map<String, SlaState> states = new java.util.LinkedHashMap<>();
        private final SlaRollups.LiveWrites live = rollups.liveWrites();

        void flush() {
            if (!timerUpserts.isEmpty() || !timerRemovals.isEmpty()) {
                org.springframework.data.mongodb.core.BulkOperations timers =
                        mongo.bulkOps(org.springframework.data.mongodb.core.BulkOperations.BulkMode.UNORDERED, SlaDocuments.TIMERS);
                timerUpserts.forEach((key, update) -> timers.upsert(Query.query(where("_id").is(key)), update));
                // a key is either written or removed in one batch (one recompute per conversation): no order needed
                timerRemovals.forEach(key -> timers.remove(Query.query(where("_id").is(key))));
                timers.execute();
            }
            // A timer due already (a backlog, a late event) goes in the current second, which the scheduler
            // still reads: "current" as of this write, not of the recompute, since a batch can take longer
            // than the seconds the scheduler reads again, and a slot it passed is only found by its full scan.
            java.util.Map<Long, java.util.Set<String>> slots = new java.util.TreeMap<>();
            long nowSecond = clock.instant().getEpochSecond();
            slotted.forEach((key, fireAt) -> slots.computeIfAbsent(Math.max(fireAt.getEpochSecond(), nowSecond),
                    k -> new java.util.LinkedHashSet<>()).add(key));
            if (!slots.isEmpty()) {
                org.springframework.data.mongodb.core.BulkOperations bulk =
                        mongo.bulkOps(org.springframework.data.mongodb.core.BulkOperations.BulkMode.UNORDERED, SlaDocuments.SLOTS);
                slots.forEach((slot, keys) -> bulk.upsert(Query.query(where("_id").is(slot)),
                        new Update().addToSet("keys").each(keys.toArray())));
                bulk.execute();
            }
            if (!states.isEmpty()) {
                org.springframework.data.mongodb.core.BulkOperations bulk =
                        mongo.bulkOps(org.springframework.data.mongodb.core.BulkOperations.BulkMode.UNORDERED, Conversation.COLLECTION);
                // a breach the scheduler fired since the recompute is kept: the state is written a batch later
                Instant now = clock.instant();
                states.forEach((id, state) -> bulk.updateOne(Query.query(where("_id").is(id)),
                        new Update().set("sla", SlaDocuments.document(keepFiredBreaches(id, state), now))));
                bulk.execute();
            }
            live.flush();
        }
    }

    /** The contacts of these conversations by id, with their tags only. */
    private java.util.Map<String, Document> contactsOf(java.util.Collection<Document> conversations) {
        List<String> ids = conversations.stream().map(d -> d.getString("contactId")).filter(java.util.Objects::nonNull).distinct()
                .toList();
        java.util.Map<String, Document> out = new java.util.HashMap<>();
        for (int from = 0; from < ids.size(); from += 500) {
            Query q = Query.query(where("_id").in(ids.subList(from, Math.min(ids.size(), from + 500))));
            q.fields().include("tags");
            for (Document d : mongo.find(q, Document.class, Contact.COLLECTION)) {
                out.put(d.getString("_id"), d);
            }
        }
        return out;
    }

    /**
     * @param c       the conversation as stored, or null if there is none (then it leaves the live figures)
     * @param contact its contact (tags), or null
     */
    private void track(String conversationId, Document c, Document contact, Instant at, Writes writes) {
        if (c == null) {
            writes.live.live(conversationId, null, null);
            return;
        }
        SlaState previous = SlaDocuments.state(c);
        SlaState next = engine.recompute(SlaDocuments.subject(c, contact), previous, at);
        next = keepFiredBreaches(conversationId, next);
        // Timers and outcomes first, the state last: the stored state is what the next recompute compares
        // with to skip unchanged timers and outcomes, so it must never be ahead of them (a crash in between
        // redelivers the event, and the recompute writes them again).
        scheduleTimers(conversationId, previous, next, writes);
        recordOutcomes(c, previous, next);
        if (!next.equals(previous)) {
            writes.states.put(conversationId, next);
        }
        writes.live.live(conversationId, c, next.nextDueAt());
    }

    /** A breach the scheduler fired stays breached even if this recompute raced with its write. */
    private SlaState keepFiredBreaches(String conversationId, SlaState s) {
        SlaState.Clock[] clocks = new SlaState.Clock[3];
        for (SlaMetric m : SlaMetric.values()) {
            SlaState.Clock c = s.clock(m);
            // only a clock already past its deadline can have a breach fired by the scheduler
            if (c != null && !c.breached() && c.dueAt() != null && !c.dueAt().isAfter(clock.instant())) {
                String key = conversationId + ":" + m.wire() + ":" + c.cycle() + ":" + SlaState.Timer.Kind.BREACH.wire();
                Document firing = mongo.findById(key, Document.class, SlaDocuments.FIRINGS);
                if (firing != null && SlaScheduler.PUBLISHED.equals(firing.getString("state"))) {
                    c = new SlaState.Clock(c.metric(), c.cycle(), c.configVersion(), c.policy(), c.target(), c.startedAt(),
                            c.elapsed(), c.runningSince(), c.dueAt(), c.warnAt(), c.stoppedAt(), true, c.businessTime(),
                            c.wallTime());
                }
            }
            clocks[m.ordinal()] = c;
        }
        return new SlaState(s.policy(), clocks[0], clocks[1], clocks[2], s.closed());
    }

    /**
     * Writes the timers of the new state and removes those of the previous state that are gone.
     * Both by {@code _id}: a query on {@code conversationId} would scan every timer on the embedded
     * store (it ignores secondary indexes), once per message. A timer already stored unchanged is
     * not written again.
     */
    private void scheduleTimers(String conversationId, SlaState previousState, SlaState state, Writes writes) {
        java.util.Map<String, SlaState.Timer> before = new java.util.HashMap<>();
        if (previousState != null) {
            for (SlaState.Timer t : previousState.timers(conversationId)) {
                before.put(t.key(), t);
            }
        }
        List<String> keys = new ArrayList<>();
        for (SlaState.Timer t : state.timers(conversationId)) {
            if (t.equals(before.get(t.key()))) {
                keys.add(t.key());
                continue; // stored already as it is (or fired and removed, which the firings record says)
            }
            // a conversation tracked for the first time has fired nothing yet
            Document fired = previousState == null ? null : mongo.findById(t.key(), Document.class, SlaDocuments.FIRINGS);
            if (fired != null && SlaScheduler.PUBLISHED.equals(fired.getString("state"))) {
                continue; // once per conversation, metric, cycle and kind
            }
            keys.add(t.key());
            writes.timerUpserts.put(t.key(), new Update()
                    .set("conversationId", conversationId).set("metric", t.metric().wire()).set("cycle", t.cycle())
                    .set("kind", t.kind().wire()).set("fireAt", SlaDocuments.date(t.fireAt()))
                    .set("dueAt", SlaDocuments.date(t.dueAt())).set("policy", t.policy()));
            writes.slotted.put(t.key(), t.fireAt());
        }
        // timers of clocks that stopped or paused are gone
        for (String stale : before.keySet()) {
            if (!keys.contains(stale)) {
                writes.timerRemovals.add(stale);
            }
        }
    }

    private void recordOutcomes(Document c, SlaState previousState, SlaState state) {
        List<SlaState.Clock> clocks = new ArrayList<>(state.clocks());
        clocks.addAll(state.closed());
        // a clock unchanged since the stored state has its outcome recorded (or none to record) already:
        // most changes (a new message in a waiting conversation) move no clock, and skip every write here
        java.util.Set<SlaState.Clock> before = new java.util.HashSet<>();
        if (previousState != null) {
            before.addAll(previousState.clocks());
            before.addAll(previousState.closed());
        }
        for (SlaState.Clock clock : clocks) {
            if (before.contains(clock)) {
                continue;
            }
            if (!clock.stopped()) {
                if (clock.metric() == io.switchboard.router.sla.SlaMetric.RESOLUTION && previousState != null
                        && previousState.resolution() != null && previousState.resolution().stopped()) {
                    // reopened: the resolution clock runs again, its earlier stop no longer counts
                    rollups.retract(c.getString("_id") + ":resolution:" + clock.cycle());
                }
                continue;
            }
            String id = c.getString("_id") + ":" + clock.metric().wire() + ":" + clock.cycle();
            Document outcome = SlaDocuments.document(clock)
                    .append("conversationId", c.getString("_id")).append("metric", clock.metric().wire())
                    .append("channel", c.getString("channel")).append("account", c.getString("account"))
                    .append("priority", c.getString("priority")).append("assignee", c.getString("assignee"))
                    .append("met", !clock.breached());
            // stored and counted in the hour rollups (slaRollups) idempotently, moved if it changed
            rollups.record(id, outcome);
        }
    }
}
