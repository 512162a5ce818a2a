package io.switchboard.api.workspace;

import io.switchboard.api.ApiException;
import io.switchboard.api.PeriodicTask;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.StoreDurability;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.http.HttpStatus;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * "Snoozed until": the conversation leaves the open queue and comes back by itself at the given
 * time (a customer's new message brings it back earlier, as for any snoozed conversation). The
 * wake-up is a conditional update ("still snoozed until that time"), so several instances
 * checking at once wake it once.
 */
@RestController
class Snoozes implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Snoozes.class);
    static final String FIELD = "snoozedUntil";
    /**
     * One alarm per snoozed conversation ({@code _id} = conversation id, {@code until}): the wake-up
     * reads this small collection rather than scanning every conversation every two seconds (the
     * embedded store has no index for it). An alarm whose conversation was woken otherwise (a customer
     * wrote, an agent reopened it) finds it no longer snoozed and is dropped.
     */
    static final String ALARMS = "snoozeAlarms";

    private final InboxStore store;
    private final MongoTemplate mongo;
    private final KafkaTemplate<String, byte[]> kafka;
    private final StoreDurability durability;
    private final Clock clock;
    private final PeriodicTask rounds;

    Snoozes(InboxStore store, MongoTemplate mongo, KafkaTemplate<String, byte[]> kafka,
            ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.store = store;
        this.mongo = mongo;
        this.kafka = kafka;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.rounds = new PeriodicTask("snooze-alarm", Duration.ofSeconds(2), this::wake);
    }

    record SnoozeRequest(Instant until) {
    }

    @PostMapping("/api/conversations/{id}/snooze")
    Map<String, Object> snooze(@PathVariable String id, @RequestBody SnoozeRequest body) {
        Instant now = clock.instant();
        if (body == null || body.until() == null || !body.until().isAfter(now)) {
            throw ApiException.badRequest("until must be an instant in the future");
        }
        if (body.until().isAfter(now.plus(Duration.ofDays(366)))) {
            throw ApiException.badRequest("until must be within a year");
        }
        Conversation c = store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        if (Conversation.RESOLVED.equals(c.status())) {
            throw new ApiException(HttpStatus.CONFLICT, "a resolved conversation cannot be snoozed; reopen it first");
        }
        // the alarm first: one without its snooze (a crash in between) only wakes nothing
        mongo.upsert(Query.query(where("_id").is(id)), new Update().set("until", body.until()), ALARMS);
        mongo.updateFirst(Query.query(where("_id").is(id)), new Update().set("status", Conversation.SNOOZED)
                .set(FIELD, body.until()).set("updatedAt", now).inc(io.switchboard.store.InboxStore.VERSION, 1L), Conversation.class);
        durability.commit();
        announce(c, now, Map.of("status", Conversation.SNOOZED, FIELD, body.until().toString()));
        return Map.of("id", id, "status", Conversation.SNOOZED, FIELD, body.until());
    }

    /** Wakes every conversation whose snooze has ended. */
    void wake() {
        Instant now = clock.instant();
        for (Document alarm : mongo.find(Query.query(where("until").lte(now)), Document.class, ALARMS)) {
            String id = alarm.getString("_id");
            Object until = alarm.get("until");
            // read, then write on {_id, _v}: a version-checked update uses the store's (_id, _v) index
            Document d = mongo.findById(id, Document.class, Conversation.COLLECTION);
            boolean woke = false;
            if (d != null && Conversation.SNOOZED.equals(d.getString("status")) && java.util.Objects.equals(d.get(FIELD), until)
                    && d.get(io.switchboard.store.InboxStore.VERSION) instanceof Number v) {
                woke = mongo.updateFirst(Query.query(where("_id").is(id).and(io.switchboard.store.InboxStore.VERSION).is(v.longValue())),
                        new Update().set("status", Conversation.OPEN).unset(FIELD).set("updatedAt", now)
                                .inc(io.switchboard.store.InboxStore.VERSION, 1L), Conversation.COLLECTION).getModifiedCount() > 0;
                if (!woke) {
                    continue; // changed meanwhile: look again at the next tick
                }
            }
            mongo.remove(Query.query(where("_id").is(id).and("until").is(until)), ALARMS);
            durability.commit();
            if (woke) {
                store.find(id).ifPresent(c -> announce(c, now, Map.of("status", Conversation.OPEN, "wokenFrom", "snooze")));
            }
        }
    }

    /** Alarms for conversations snoozed before alarms existed (one scan, at start). */
    private void backfillAlarms() {
        for (Document d : mongo.find(Query.query(where("status").is(Conversation.SNOOZED).and(FIELD).exists(true)),
                Document.class, Conversation.COLLECTION)) {
            mongo.upsert(Query.query(where("_id").is(d.get("_id"))), new Update().setOnInsert("until", d.get(FIELD)), ALARMS);
        }
        durability.commit();
    }

    private void announce(Conversation c, Instant now, Map<String, String> data) {
        ConversationEvent event = new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                ConversationEvent.CONVERSATION_UPDATED + ":" + c.id() + ":" + now.toEpochMilli(), ConversationEvent.CONVERSATION_UPDATED,
                c.id(), null, Channel.fromWire(c.channel()), now, data);
        try {
            kafka.send(Topics.CONVERSATION_EVENTS, c.id(), ContractJson.toBytes(event)).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("snooze change of {} is saved but could not be announced: {}", c.id(), e.toString());
        }
    }

    @Override
    public void start() {
        rounds.start(this::backfillAlarms);
    }

    @Override
    public void stop() {
        rounds.stop();
    }

    @Override
    public boolean isRunning() {
        return rounds.isRunning();
    }
}
