package io.switchboard.router.sla.tracker;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.router.sla.SlaEngine;
import io.switchboard.router.sla.SlaMetric;
import io.switchboard.router.sla.SlaState;
import io.switchboard.store.Conversation;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.dao.DuplicateKeyException;
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

    SlaTracker(MongoTemplate mongo, SlaConfigSource configs, SlaTrackerProperties props,
               ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.engine = new SlaEngine(configs::config, props.warnRatio());
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @KafkaListener(id = "router-sla", containerFactory = "routerListenerFactory",
            topics = Topics.CONVERSATION_EVENTS,
            groupId = "${switchboard.router.group-id}-sla",
            properties = "group.instance.id=${switchboard.router.instance-id}-sla")
    public void onBatch(List<ConsumerRecord<String, byte[]>> records) {
        for (ConsumerRecord<String, byte[]> record : records) {
            ConversationEvent event;
            try {
                event = ContractJson.fromBytes(record.value(), ConversationEvent.class);
            } catch (ContractJson.UndecodableRecordException e) {
                log.warn("skipping undecodable conversation event at {}-{}@{}: {}", record.topic(), record.partition(),
                        record.offset(), e.getMessage());
                continue;
            }
            try {
                track(event.conversationId(), event.at());
            } catch (IllegalArgumentException | IllegalStateException e) {
                // deterministic (a configuration this router cannot apply): retrying would block every later event
                log.warn("SLA clocks of conversation {} not updated: {}", event.conversationId(), e.getMessage());
            }
        }
        durability.commit();
    }

    /** Recomputes one conversation's clocks as of a change at {@code at}. */
    void track(String conversationId, Instant at) {
        Document c = mongo.findById(conversationId, Document.class, Conversation.COLLECTION);
        if (c == null) {
            return;
        }
        SlaState previous = SlaDocuments.state(c);
        SlaState next = engine.recompute(SlaDocuments.subject(c), previous, at);
        next = keepFiredBreaches(conversationId, next);
        mongo.updateFirst(Query.query(where("_id").is(conversationId)),
                new Update().set("sla", SlaDocuments.document(next, clock.instant())), Conversation.COLLECTION);
        scheduleTimers(conversationId, next);
        recordOutcomes(c, next);
    }

    /** A breach the scheduler fired stays breached even if this recompute raced with its write. */
    private SlaState keepFiredBreaches(String conversationId, SlaState s) {
        SlaState.Clock[] clocks = new SlaState.Clock[3];
        for (SlaMetric m : SlaMetric.values()) {
            SlaState.Clock c = s.clock(m);
            if (c != null && !c.breached()) {
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

    private void scheduleTimers(String conversationId, SlaState state) {
        List<String> keys = new ArrayList<>();
        for (SlaState.Timer t : state.timers(conversationId)) {
            Document fired = mongo.findById(t.key(), Document.class, SlaDocuments.FIRINGS);
            if (fired != null && SlaScheduler.PUBLISHED.equals(fired.getString("state"))) {
                continue; // once per conversation, metric, cycle and kind
            }
            keys.add(t.key());
            mongo.upsert(Query.query(where("_id").is(t.key())), new Update()
                    .set("conversationId", conversationId).set("metric", t.metric().wire()).set("cycle", t.cycle())
                    .set("kind", t.kind().wire()).set("fireAt", SlaDocuments.date(t.fireAt()))
                    .set("dueAt", SlaDocuments.date(t.dueAt())).set("policy", t.policy()), SlaDocuments.TIMERS);
        }
        // timers of clocks that stopped or paused are gone
        mongo.remove(Query.query(where("conversationId").is(conversationId).and("_id").nin(keys)), SlaDocuments.TIMERS);
    }

    private void recordOutcomes(Document c, SlaState state) {
        List<SlaState.Clock> clocks = new ArrayList<>(state.clocks());
        clocks.addAll(state.closed());
        for (SlaState.Clock clock : clocks) {
            if (!clock.stopped()) {
                if (clock.metric() == io.switchboard.router.sla.SlaMetric.RESOLUTION) {
                    // reopened: the resolution clock runs again, its earlier stop no longer counts
                    mongo.remove(Query.query(where("_id").is(c.getString("_id") + ":resolution:" + clock.cycle())), SlaDocuments.OUTCOMES);
                }
                continue;
            }
            String id = c.getString("_id") + ":" + clock.metric().wire() + ":" + clock.cycle();
            Document outcome = SlaDocuments.document(clock)
                    .append("conversationId", c.getString("_id")).append("metric", clock.metric().wire())
                    .append("channel", c.getString("channel")).append("account", c.getString("account"))
                    .append("priority", c.getString("priority")).append("assignee", c.getString("assignee"))
                    .append("met", !clock.breached());
            Update update = new Update();
            outcome.forEach(update::set);
            try {
                mongo.upsert(Query.query(where("_id").is(id)), update, SlaDocuments.OUTCOMES);
            } catch (DuplicateKeyException raced) {
                mongo.updateFirst(Query.query(where("_id").is(id)), update, SlaDocuments.OUTCOMES);
            }
        }
    }
}
