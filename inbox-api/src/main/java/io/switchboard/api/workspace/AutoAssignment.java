package io.switchboard.api.workspace;

import io.switchboard.api.ApiException;
import io.switchboard.api.PeriodicTask;
import io.switchboard.api.workspace.AssignmentPlan.Agent;
import io.switchboard.api.workspace.AssignmentPlan.Config;
import io.switchboard.api.workspace.AssignmentPlan.Team;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.store.Conversation;
import io.switchboard.store.StoreDurability;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Automatic assignment, off until an admin turns it on (PUT /api/admin/assignment): open
 * conversations nobody has are given round-robin to the agents of the teams serving their
 * channel, up to each agent's capacity ({@link AssignmentPlan}). A sweep runs every few seconds
 * and right after new conversations are announced; each assignment is a conditional update
 * ("still nobody's"), so several API instances sweeping at once never assign twice.
 */
@RestController
class AutoAssignment implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AutoAssignment.class);
    static final String SETTINGS = "settings";
    static final String ID = "assignment";

    private final MongoTemplate mongo;
    private final KafkaTemplate<String, byte[]> kafka;
    private final StoreDurability durability;
    private final Clock clock;
    private final Map<String, Instant> lastAssigned = new ConcurrentHashMap<>();
    private final AtomicBoolean nudged = new AtomicBoolean();
    private final PeriodicTask rounds;

    AutoAssignment(MongoTemplate mongo, KafkaTemplate<String, byte[]> kafka, ObjectProvider<StoreDurability> durability,
                   ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.kafka = kafka;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.rounds = new PeriodicTask("auto-assignment", Duration.ofMillis(500), () -> {
            // every 5 s, or within half a second of a nudge
            if (nudged.getAndSet(false) || ++ticks % 10 == 0) {
                sweep();
            }
        });
    }

    /** Rounds since start; only the task's thread counts them. */
    private long ticks;

    @GetMapping("/api/admin/assignment")
    Config get() {
        Config c = mongo.findById(ID, Config.class, SETTINGS);
        return c == null ? Config.off() : c;
    }

    @PutMapping("/api/admin/assignment")
    Config put(@RequestBody Config config) {
        if (config == null) {
            throw ApiException.badRequest("body is required");
        }
        var names = new HashSet<String>();
        for (Agent a : config.agents()) {
            if (a.username() == null || !mongo.exists(Query.query(where("_id").is(a.username())), "users")) {
                throw ApiException.badRequest("agent " + a.username() + " is not a user");
            }
            if (a.capacity() < 0 || a.capacity() > 1000) {
                throw ApiException.badRequest("capacity of " + a.username() + " must be between 0 and 1000");
            }
            if (!names.add(a.username())) {
                throw ApiException.badRequest("agent " + a.username() + " is listed twice");
            }
        }
        for (Team t : config.teams()) {
            if (t.name() == null || t.name().isBlank()) {
                throw ApiException.badRequest("every team needs a name");
            }
        }
        Document doc = new Document();
        mongo.getConverter().write(config, doc);
        doc.put("_id", ID);
        doc.remove("_class");
        mongo.save(doc, SETTINGS);
        durability.commit();
        Map<String, Object> changes = new java.util.LinkedHashMap<>();
        changes.put("enabled", config.enabled());
        changes.put("agents", config.agents().stream().map(a -> a.username() + ":" + a.capacity()).toList());
        changes.put("teams", config.teams().stream().map(Team::name).toList());
        io.switchboard.api.security.AuditLog.describe(changes);
        nudge();
        return get();
    }

    /** Asks for a sweep soon (new conversations were announced). */
    void nudge() {
        nudged.set(true);
    }

    void sweep() {
        Config config = get();
        if (!config.enabled() || config.agents().isEmpty()) {
            return;
        }
        Map<String, Integer> load = new HashMap<>();
        for (Agent a : config.agents()) {
            load.put(a.username(), (int) mongo.count(Query.query(where("assignee").is(a.username())
                    .and("status").in(Conversation.OPEN, Conversation.PENDING)), Conversation.class));
        }
        Query waiting = Query.query(where("assignee").isNull().and("status").in(Conversation.OPEN, Conversation.PENDING)
                .and("lastMessageAt").ne(null)).with(Sort.by("createdAt")).limit(200);
        List<Conversation> queue = new ArrayList<>(mongo.find(waiting, Conversation.class));
        queue.sort(java.util.Comparator.comparing(Conversation::createdAt, java.util.Comparator.nullsLast(java.util.Comparator.naturalOrder())));
        for (Conversation c : queue) {
            String agent = AssignmentPlan.choose(config, c.channel(), c.account(), load, lastAssigned).orElse(null);
            if (agent == null) {
                continue;
            }
            Instant now = clock.instant();
            boolean taken = mongo.updateFirst(Query.query(where("_id").is(c.id()).and("assignee").isNull()),
                    new Update().set("assignee", agent).set("updatedAt", now), Conversation.class).getModifiedCount() > 0;
            if (!taken) {
                continue;
            }
            durability.commit();
            load.merge(agent, 1, Integer::sum);
            lastAssigned.put(agent, now);
            announce(c, agent, now);
        }
    }

    private void announce(Conversation c, String agent, Instant now) {
        ConversationEvent event = new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                ConversationEvent.CONVERSATION_UPDATED + ":" + c.id() + ":" + now.toEpochMilli(), ConversationEvent.CONVERSATION_UPDATED,
                c.id(), null, Channel.fromWire(c.channel()), now, Map.of("assignee", agent, "assignedBy", "auto"));
        try {
            kafka.send(Topics.CONVERSATION_EVENTS, c.id(), ContractJson.toBytes(event)).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("auto-assignment of {} is saved but could not be announced: {}", c.id(), e.toString());
        }
    }

    @Override
    public void start() {
        rounds.start(null);
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
